// Configuration of the InfluxDB and Graphite sinks (issue: sinks). Extend here; schema.ts lists it.
import { bool, text } from './formats.js';
import type { Section } from './schema.js';

export interface SinksConfig {
  influx: { enabled: boolean; url: string };
  graphite: { enabled: boolean; address: string };
}

export const sinksSection: Section = {
  influx: {
    enabled: { doc: 'Write interval summaries to InfluxDB.', format: bool, default: false },
    url: { doc: 'InfluxDB base URL.', format: text, default: 'http://127.0.0.1:8086' },
  },
  graphite: {
    enabled: { doc: 'Write interval summaries to Graphite (carbon plaintext).', format: bool, default: false },
    address: { doc: 'carbon plaintext receiver, host:port.', format: text, default: '127.0.0.1:2003' },
  },
};
