import { createRouter } from '../../../shared/router';

// The portal's pages: paths under /partner/ (`/partner/billing`, the address the emails link to, is
// the subscription page); each navigation starts at the page's top.
export const { BASE, useLocation, navigate, href } = createRouter('/partner', { scrollToTop: true });
