// Configuration of the built-in web page and status endpoints. schema.ts lists it; the defaults are
// the web server's (WEB_DEFAULTS), and cfg.web is the server's options as it is.
import { WEB_DEFAULTS, type WebOptions } from '../web/server.js';
import { bool, duration, hostPort, positiveInt, text } from './formats.js';
import { renderDuration } from '../lib/duration.js';
import type { Section } from './section.js';

export interface WebConfig {
  /** listen is canonical host:port text; history in ms */
  web: { enabled: boolean } & Pick<WebOptions, 'listen' | 'history' | 'alerts' | 'clients' | 'allowedHosts'>;
}

const W = WEB_DEFAULTS;

export const webSection: Section = {
  web: {
    enabled: { doc: 'Serve the live page, /api, /metrics and /healthz.', format: bool, default: true },
    listen: { doc: 'Address of the web server (localhost only unless changed).', format: hostPort, default: W.listen },
    history: {
      doc: 'How much interval history the page and /api/intervals keep in memory (the page shows this window up to the newest interval).',
      format: duration,
      default: renderDuration(W.history),
    },
    alerts: { doc: 'Recent alerts kept for the page and /api/alerts (oldest dropped first).', format: positiveInt, default: W.alerts },
    clients: {
      doc: 'Cap on concurrent live-update connections (/api/events); more are refused with 503.',
      format: positiveInt,
      default: W.clients,
    },
    allowedHosts: {
      doc: 'Host names, comma-separated, accepted in the Host header besides IP literals and "localhost" (guards against DNS rebinding); needed when the page is reached by name.',
      format: text,
      default: W.allowedHosts,
    },
  },
};
