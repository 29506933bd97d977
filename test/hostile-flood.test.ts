// Hostile flood drill (issue 17): the built collector under spoofed exporters and crafted datagrams
// (bench/hostile-gen.ts) keeps answering /healthz, keeps counting the sound exporter, and stops on
// SIGTERM. A short version of `npm run bench hostile` (50,000 datagrams/s for 60 s, with the goals
// /healthz < 1 s and RSS < 200 MB measured there, not asserted here).
import t from 'tap';
import { hostileRun, promTotal } from '../bench/hostile.js';

t.test('spoofed exporters and crafted datagrams: /healthz answers throughout, sound records counted, SIGTERM ends it', { timeout: 120_000 }, async (t) => {
  const r = await hostileRun({ seconds: 10, warmup: 3, rate: 20_000, sources: 300 });
  t.comment(`${r.sent.datagrams} datagrams in ${r.sent.seconds.toFixed(1)} s; /healthz max ${Math.max(...r.health).toFixed(0)} ms; RSS max ${Math.max(...r.rss).toFixed(0)} MB`);
  t.ok(r.health.length >= 20, `${r.health.length} asks of /healthz`);
  t.equal(r.healthFailures, 0, 'every ask of /healthz answered 200 (each waited at most 5 s)');
  // past its capacity the collector sheds whole datagrams before decoding (counted), so what it took of
  // the sound exporter is counted exactly, and it keeps taking it
  const soundDatagrams = promTotal(r.metrics, 'datagrams_decoded_total', 'exporter="127.0.0.1"');
  t.equal(r.soundCounted, 30 * soundDatagrams, `every sound datagram taken is counted whole: ${soundDatagrams} datagrams, ${r.soundCounted} records`);
  // it was sending before the flood, so the flood's new sources are shed first (reason unknown_source)
  t.ok(r.soundCounted >= 0.9 * r.sent.sound, `the sound exporter keeps being counted: ${r.soundCounted} of ${r.sent.sound} records`);
  t.ok(promTotal(r.metrics, 'datagrams_shed_total', 'reason="unknown_source"') > 0, 'the flood\'s sources were shed as unknown');
  t.ok(promTotal(r.metrics, 'datagrams_shed_total') + promTotal(r.metrics, 'datagrams_received_total') <= r.sent.datagrams + r.sent.sound / 30 + 1,
    'shed datagrams are counted, not more than were sent');
  t.equal(r.exitCode, 0, `SIGTERM: exit 0 (in ${r.stopMs} ms)`);
  t.end();
});
