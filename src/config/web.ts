// Configuration of the built-in web page and status endpoints. schema.ts lists it.
import { bool, hostPort } from './formats.js';
import type { Section } from './schema.js';

export interface WebConfig {
  web: { enabled: boolean; listen: string };
}

export const webSection: Section = {
  web: {
    enabled: { doc: 'Serve the live page, /api, /metrics and /healthz.', format: bool, default: true },
    listen: { doc: 'Address of the web server (localhost only unless changed).', format: hostPort, default: '127.0.0.1:8080' },
  },
};
