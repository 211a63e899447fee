import { createRouter } from '../../shared/router';

// The console's pages: paths under /console/.
export const { BASE, useLocation, navigate, href } = createRouter('/console');
