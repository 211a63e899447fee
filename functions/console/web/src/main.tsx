import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App';
import { takeTokenFromFragment } from './lib/auth';
import './styles.css';

// A sign-in link carries the token in the fragment: keep it in this tab, drop it from the address bar.
takeTokenFromFragment();
window.addEventListener('hashchange', () => takeTokenFromFragment());

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
