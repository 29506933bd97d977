// replay() waits for the JSON output to drain: a slow reader holds the replay back instead of the
// output buffering every interval in memory.
import t from 'tap';
import { Metrics } from '../src/lib/counters.js';
import { FanOut } from '../src/export/sink.js';
import { Writable } from 'node:stream';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../src/config/load.js';
import { replay } from '../src/ingest/replay.js';
import { JsonSink } from '../src/export/json.js';
import { silentLogger } from '../src/lib/log.js';
import { v5At, writePcap } from './helpers/pcap-write.js';

t.test('a slow reader: the output never holds more than a few lines, and gets every one', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'flowbridge-bp-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const t0 = Date.UTC(2024, 5, 1, 12);
  // 400 intervals of one flow each: some 400 lines of a kilobyte or more
  const file = writePcap(join(dir, 'slow.pcap'), Array.from({ length: 400 }, (_, i) => ({ tsMs: t0 + i * 10_000, payload: v5At(t0 + i * 10_000, '10.1.0.1', '198.51.100.1') })));
  let maxBuffered = 0, lines = 0, bytes = 0;
  const out = new Writable({
    highWaterMark: 4096,
    write(chunk: Buffer, _enc, done) {
      maxBuffered = Math.max(maxBuffered, out.writableLength);
      bytes += chunk.length;
      lines += chunk.toString().split('\n').length - 1;
      setImmediate(done); // a reader slower than the replay
    },
  });
  const sink = new JsonSink('-', out);
  const cfg = loadConfig({ argv: [], env: {}, overrides: { networks: { home: ['10.1.0.0/16'] } } });
  let summaries = 0;
  await replay([file], cfg, { fanout: new FanOut([sink], new Metrics(), silentLogger), log: silentLogger, progress: false, onSummary: () => summaries++, pause: () => sink.drained() });
  t.ok(bytes > 200_000, `${bytes} bytes written`);
  t.equal(lines, summaries, 'every interval written');
  t.ok(maxBuffered < 32_768, `at most ${maxBuffered} bytes buffered`);
});
