// Configuration of the built-in web page and status endpoints. schema.ts lists it.
import { bool, duration, hostPort, positiveInt, text } from './formats.js';
import type { Section } from './schema.js';

export interface WebConfig {
  web: {
    enabled: boolean;
    /** canonical host:port text; split with formats.parseHostPort */
    listen: string;
    /** milliseconds of interval summaries kept in memory for the page and /api/intervals */
    history: number;
    /** recent alerts kept for the page and /api/alerts */
    alerts: number;
    /** concurrent live-update (/api/events) connections */
    clients: number;
    /** extra Host header names accepted, comma-separated ("" = IP literals and localhost only) */
    allowedHosts: string;
  };
}

export const webSection: Section = {
  web: {
    enabled: { doc: 'Serve the live page, /api, /metrics and /healthz.', format: bool, default: true },
    listen: { doc: 'Address of the web server (localhost only unless changed).', format: hostPort, default: '127.0.0.1:8080' },
    history: {
      doc: 'How much interval history the page and /api/intervals keep in memory (the page shows this window up to the newest interval).',
      format: duration,
      default: '1h',
    },
    alerts: { doc: 'Recent alerts kept for the page and /api/alerts (oldest dropped first).', format: positiveInt, default: 100 },
    clients: {
      doc: 'Cap on concurrent live-update connections (/api/events); more are refused with 503.',
      format: positiveInt,
      default: 32,
    },
    allowedHosts: {
      doc: 'Host names, comma-separated, accepted in the Host header besides IP literals and "localhost" (guards against DNS rebinding); needed when the page is reached by name.',
      format: text,
      default: '',
    },
  },
};
