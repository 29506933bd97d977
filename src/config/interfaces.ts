// Configured interface names (`interfaces`): exporter address → ifIndex → name. They label the views
// keyed by interface and the sFlow interface counters, and win over names learned from options data
// (decode/interface-names.ts). schema.ts lists the section.
import { addressText, parseAddressBytes } from '../classify/prefixes.js';
import { cleanName, MAX_IF_NAME, NAME_CONTROL, type ConfiguredNames } from '../decode/interface-names.js';
import { FormatError, type FormatDef } from './formats.js';
import type { Section } from './section.js';

export interface InterfacesConfig {
  /** canonical exporter address → ifIndex (decimal text) → name */
  interfaces: ConfiguredNames;
}

const MAX_IF_INDEX = 4294967295;
const EXPECTED = 'an object of exporter address → { ifIndex → interface name }, such as {"192.0.2.1": {"3": "xe-0/0/1"}}';
const EXPORTER_EXPECTED = 'an exporter IPv4/IPv6 address such as "192.0.2.1"';
const NAMES_EXPECTED = 'an object of ifIndex → interface name, such as {"3": "xe-0/0/1"}';
const IF_INDEX_EXPECTED = `an ifIndex: a whole number from 1 to ${MAX_IF_INDEX}, such as "3"`;
const NAME_EXPECTED = `an interface name: a non-empty string of at most ${MAX_IF_NAME} characters without control characters, such as "xe-0/0/1"`;

const CONTROL = new RegExp(NAME_CONTROL.source, 'u');
const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function names(raw: unknown, sub: string): Record<string, string> {
  if (!isObj(raw)) throw new FormatError(NAMES_EXPECTED, sub, raw);
  const out: Record<string, string> = {};
  for (const [ifText, name] of Object.entries(raw)) {
    const at = `${sub}[${JSON.stringify(ifText)}]`;
    const n = /^\s*\d{1,10}\s*$/.test(ifText) ? Number(ifText) : NaN;
    if (!(n >= 1 && n <= MAX_IF_INDEX)) throw new FormatError(IF_INDEX_EXPECTED, at, ifText);
    if (String(n) in out) throw new FormatError('each ifIndex once', at, ifText);
    // refused rather than changed, so a name is shown as configured or not at all
    if (typeof name !== 'string' || name.trim() === '' || name.length > MAX_IF_NAME || CONTROL.test(name)) {
      throw new FormatError(NAME_EXPECTED, at, name);
    }
    out[String(n)] = cleanName(name);
  }
  return out;
}

export const interfaceNames: FormatDef<ConfiguredNames> = {
  name: 'interface-names',
  note: 'Keys are exporter addresses (the datagram source, or the sFlow agent address), then ifIndexes as text. In the environment and on the command line: JSON. These names win over those exporters send in NetFlow v9/IPFIX options data (interfaceName, interfaceDescription).',
  keyed: true,
  expected: EXPECTED,
  // JSON only: names hold the characters a compact "k=v,…" form would need as separators
  coerce(text) {
    try {
      return text.trim() === '' ? {} : (JSON.parse(text) as unknown);
    } catch {
      return text;
    }
  },
  normalize(raw) {
    if (!isObj(raw)) throw new FormatError(EXPECTED);
    const out: Record<string, Record<string, string>> = {};
    for (const [exporter, byIndex] of Object.entries(raw)) {
      const sub = `[${JSON.stringify(exporter)}]`;
      const addr = parseAddressBytes(exporter.trim());
      if (!addr) throw new FormatError(EXPORTER_EXPECTED, sub, exporter);
      // canonical text, as the decoders give the exporter: "2001:DB8::1" and "2001:db8:0::1" are one
      const canon = addressText(addr.v6, addr.bytes);
      if (canon in out) throw new FormatError('each exporter once', sub, exporter);
      out[canon] = names(byIndex, sub);
    }
    return out;
  },
};

export const interfacesSection: Section = {
  interfaces: {
    doc: 'Interface names by exporter address and ifIndex, such as {"192.0.2.1": {"3": "xe-0/0/1"}}: the views keyed by interface and the sFlow interface counters carry them (ifName in JSON, the tag ifname in InfluxDB and tagged Graphite). They win over names exporters send in NetFlow v9/IPFIX options data; reloaded on SIGHUP.',
    format: interfaceNames,
    default: {},
  },
};

/** The formats this section defines, for the configuration reference. */
export const INTERFACE_FORMATS: readonly FormatDef[] = [interfaceNames] as FormatDef[];
