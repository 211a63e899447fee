import { afterEach, describe, expect, it } from 'vitest';
import { endSession, lastSignOutReason, startSession, takeCodeFromFragment, token } from './session';

afterEach(() => sessionStorage.clear());

describe('the partner session', () => {
  it('takes the code from the fragment and removes it from the address bar', () => {
    window.history.replaceState(null, '', '/partner/billing?x=1#code=abc');
    expect(takeCodeFromFragment()).toBe('abc');
    expect(window.location.hash).toBe('');
    expect(window.location.pathname + window.location.search).toBe('/partner/billing?x=1');
    window.history.replaceState(null, '', '/partner/#other=1');
    expect(takeCodeFromFragment()).toBeNull();
    window.history.replaceState(null, '', '/partner/#code=%20');
    expect(takeCodeFromFragment()).toBeNull();
  });

  it('keeps the token in this tab only and says why it ended', () => {
    startSession('jwt');
    expect(token()).toBe('jwt');
    expect(localStorage.length).toBe(0);
    endSession('You signed out.');
    expect(token()).toBeNull();
    expect(lastSignOutReason()).toBe('You signed out.');
  });
});
