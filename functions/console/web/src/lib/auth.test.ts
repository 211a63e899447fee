import { afterEach, describe, expect, it } from 'vitest';
import { signOut, takeTokenFromFragment, token, tokenSubject } from './auth';

afterEach(() => {
  sessionStorage.clear();
  window.history.replaceState(null, '', '/');
});

describe('sign-in by link', () => {
  it('keeps the fragment\'s token in this tab only and removes it from the address bar', () => {
    window.history.replaceState(null, '', '/console/partners#token=abc.def.ghi');
    expect(takeTokenFromFragment()).toBe(true);
    expect(token()).toBe('abc.def.ghi');
    expect(window.location.hash).toBe('');
    expect(window.location.pathname).toBe('/console/partners');
    expect(localStorage.length).toBe(0);
    expect(document.cookie).toBe('');
  });
  it('ignores a fragment without a token, and signs out', () => {
    window.history.replaceState(null, '', '/console/#section');
    expect(takeTokenFromFragment()).toBe(false);
    expect(token()).toBeNull();
    sessionStorage.setItem('power100.admin-token', 'x');
    signOut('bye');
    expect(token()).toBeNull();
  });
  it('reads the subject for the header', () => {
    const payload = btoa(JSON.stringify({ sub: 'admin-local' })).replace(/=+$/, '');
    expect(tokenSubject(`h.${payload}.s`)).toBe('admin-local');
    expect(tokenSubject('garbage')).toBeNull();
  });
});
