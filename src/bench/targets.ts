/**
 * The targets (issue 9) checked against a result: each row says what
 * was measured and whether it meets the target, so misses are plain to see.
 */
export interface TargetRow {
  target: string;
  model: string;
  measured: string;
  met: boolean | null;
}

const fmt = (x: number | undefined, d = 2) => (x === undefined || Number.isNaN(x) ? 'n/a' : String(Math.round(x * 10 ** d) / 10 ** d));

export function checkTargets(models: Record<string, any>): TargetRow[] {
  const rows: TargetRow[] = [];
  for (const [name, m] of Object.entries(models)) {
    for (const c of m.engine?.contexts ?? []) {
      const e = c.impls.engine;
      const want = c.prompt_tokens >= 1000 ? 0.9 : 0.97;
      if (e?.ratio_to_floor) {
        rows.push({ target: `decode >= ${want} x floor at ${c.prompt_tokens} tokens`, model: name, measured: `${fmt(e.ratio_to_floor.decode.median)} (min ${fmt(e.ratio_to_floor.decode.min)}, max ${fmt(e.ratio_to_floor.decode.max)})`, met: e.ratio_to_floor.decode.median >= want });
      } else if (e?.mismatch) rows.push({ target: `engine tokens = floor tokens at ${c.prompt_tokens}`, model: name, measured: `differs at token ${e.mismatch.at}`, met: false });
      const t = c.impls.transformers_js;
      if (e?.decode_tokens_per_s && t?.decode_tokens_per_s) {
        const r = e.decode_tokens_per_s.median / t.decode_tokens_per_s.median;
        rows.push({ target: `decode >= 1.5 x transformers.js at ${c.prompt_tokens} tokens`, model: name, measured: fmt(r), met: r >= 1.5 });
      } else if (t?.mismatch) rows.push({ target: `transformers.js tokens = floor tokens at ${c.prompt_tokens}`, model: name, measured: `differs at token ${t.mismatch.at}`, met: false });
    }
    for (const q of m.mqtt ?? []) {
      rows.push({ target: `MQTT overhead p50 <= 2 ms (${q.broker})`, model: name, measured: `${fmt(q.latency_ms.overhead_p50)} ms`, met: q.latency_ms.overhead_p50 <= 2 });
      rows.push({ target: `MQTT overhead p99 <= 10 ms (${q.broker})`, model: name, measured: `${fmt(q.latency_ms.overhead_p99)} ms`, met: q.latency_ms.overhead_p99 <= 10 });
      rows.push({ target: `pipeline >= 1000 tasks/s, instant engine (${q.broker})`, model: name, measured: `${fmt(q.pipeline.tasks_per_s, 0)} tasks/s`, met: q.pipeline.tasks_per_s >= 1000 });
    }
    const a = m.memory;
    if (a?.rss_idle_mb !== undefined) {
      const limit = m.file_mb + 80;
      rows.push({ target: 'agent RSS idle <= model file + 80 MB', model: name, measured: `${a.rss_idle_mb} MB (file ${m.file_mb} MB, limit ${fmt(limit, 1)})`, met: a.rss_idle_mb <= limit });
      rows.push({ target: 'agent RSS peak <= model file + 80 MB', model: name, measured: `${a.rss_peak_mb} MB during ${a.long_generation.tokens} tokens`, met: a.rss_peak_mb <= limit });
      // Allocator noise on a few-MB heap: under 2 MB over 100 generations counts as none.
      rows.push({ target: `no RSS growth over ${a.growth.generations} generations`, model: name, measured: `${a.growth.growth_mb} MB`, met: a.growth.growth_mb < 2 });
    }
    if (a?.event_loop_delay_ms) rows.push({ target: 'event-loop delay p99 <= 20 ms during generation', model: name, measured: `${a.event_loop_delay_ms.p99} ms (max ${a.event_loop_delay_ms.max})`, met: a.event_loop_delay_ms.p99 <= 20 });
  }
  return rows;
}
