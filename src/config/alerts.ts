// Configuration of alerting: flow definitions, thresholds and the syslog transport. schema.ts lists it.
import { bool } from './formats.js';
import type { Section } from './schema.js';

export interface AlertsConfig {
  alerts: { enabled: boolean };
}

export const alertsSection: Section = {
  alerts: {
    enabled: { doc: 'Evaluate the flow definitions and send alerts.', format: bool, default: true },
  },
};
