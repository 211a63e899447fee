import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App';
import { takeCodeFromFragment } from './lib/session';
import '../../src/styles.css';
import './partner.css';

// A sign-in link carries its code in the fragment: taken (and removed from the address bar) before
// anything renders, then exchanged once for a token.
const code = takeCodeFromFragment();

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App code={code} />
  </StrictMode>,
);
