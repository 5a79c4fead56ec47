/**
 * The issues' targets (9, 13 for the stand-ins, 18 for readings) checked against a result: each row says what
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
    const standin = name.startsWith('standin-');
    for (const c of m.engine?.contexts ?? []) {
      const e = c.impls.engine;
      const at = c.prompt_tokens;
      // Issue 13's targets on the stand-ins; the shipped model's small steps keep issue 9's.
      const want = !standin ? (at >= 1000 ? 0.9 : 0.97) : name.includes('1.5b') ? (at >= 1000 && at < 2000 ? 2.0 : undefined) : at < 64 ? 2.0 : at >= 1000 && at < 2000 ? 2.2 : at >= 4000 ? 3.0 : undefined;
      const noisy = c.noisy ? ' (noisy run)' : '';
      if (e?.ratio_to_floor && want !== undefined) {
        rows.push({ target: `decode >= ${want} x floor at ${at} tokens`, model: name, measured: `${fmt(e.ratio_to_floor.decode.median)} (min ${fmt(e.ratio_to_floor.decode.min)}, max ${fmt(e.ratio_to_floor.decode.max)})${noisy}`, met: e.ratio_to_floor.decode.median >= want });
      } else if (e?.mismatch) rows.push({ target: `engine tokens = minimal loop's on the same graph at ${at}`, model: name, measured: `differs at token ${e.mismatch.at}`, met: false });
      if (standin && e?.ratio_to_floor && at >= 1000 && at < 2000) {
        rows.push({ target: `prefill >= 1.3 x floor at ${at} tokens`, model: name, measured: `${fmt(e.ratio_to_floor.prefill.median)}${noisy}`, met: e.ratio_to_floor.prefill.median >= 1.3 });
      }
      const t = c.impls.transformers_js;
      const peerWant = standin ? (at >= 256 ? 2.0 : undefined) : 1.5;
      if (e?.decode_tokens_per_s && t?.decode_tokens_per_s && peerWant !== undefined) {
        const r = e.decode_tokens_per_s.median / t.decode_tokens_per_s.median;
        rows.push({ target: `decode >= ${peerWant} x transformers.js at ${at} tokens`, model: name, measured: `${fmt(r)}${noisy}`, met: r >= peerWant });
      } else if (t?.mismatch) rows.push({ target: `transformers.js tokens = floor tokens at ${at}`, model: name, measured: `differs at token ${t.mismatch.at}`, met: false });
      const ceiling = m.ceiling?.tokens_per_s_at?.[16];
      if (standin && at < 64 && e?.decode_tokens_per_s && ceiling) {
        const share = e.decode_tokens_per_s.median / ceiling;
        rows.push({ target: `decode at ${at} tokens >= 60% of the bandwidth ceiling`, model: name, measured: `${fmt(100 * share, 0)}% (${fmt(e.decode_tokens_per_s.median, 1)} of ${fmt(ceiling, 1)} tok/s at ${m.ceiling.read_gb_s} GB/s)${noisy}`, met: share >= 0.6 });
      }
    }
    // Issue 14: batching on the 0.5B-shaped stand-in (and reported for every model).
    for (const c of Array.isArray(m.concurrency) ? m.concurrency : []) {
      const batchTarget = name.includes('0.5b');
      if (c.tasks === 4 && c.decode_ratio_to_one) {
        const d = c.decode_ratio_to_one;
        rows.push({ target: '4 tasks at once: aggregate decode (decode rates summed) >= 2.5 x one task alone', model: name, measured: `${fmt(d.median)} (min ${fmt(d.min)}, max ${fmt(d.max)}); first token p50 ${fmt(c.first_token_ms_p50.median, 0)} ms with 4 running`, met: batchTarget ? d.median >= 2.5 : null });
      }
      if (c.tasks === 4 && c.steps) {
        rows.push({ target: 'a 4-row decode step ÷ a 1-row step, as tokens per second (in-process, no prompt passes; reported)', model: name, measured: `${fmt(c.steps.ratio.median)} (min ${fmt(c.steps.ratio.min)}, max ${fmt(c.steps.ratio.max)}): ${fmt(c.steps.four_rows_ms.median)} vs ${fmt(c.steps.one_row_ms.median)} ms`, met: null });
        if (c.steps.floor_ratio) {
          const f = c.steps.floor_ratio;
          rows.push({ target: 'batching beats the minimal batched loop (4-row step ratio, engine >= the loop on the plain file)', model: name, measured: `${fmt(c.steps.ratio.median)} vs ${fmt(f.median)} (loop: ${fmt(c.steps.floor_four_rows_ms!.median)} vs ${fmt(c.steps.floor_one_row_ms!.median)} ms a step)`, met: batchTarget ? c.steps.ratio.median >= f.median : null });
        }
      }
      if (c.tasks === 4 && c.ratio_to_one) {
        rows.push({ target: '4 tasks at once: all tokens ÷ wall time, prompt passes included (reported)', model: name, measured: `${fmt(c.ratio_to_one.median)} x one task alone (min ${fmt(c.ratio_to_one.min)}, max ${fmt(c.ratio_to_one.max)})`, met: null });
      }
      if (c.tasks === 1 && c.ratio_to_unbatched) {
        rows.push({ target: 'one task alone >= 0.97 x the engine before batching (max_batch 1)', model: name, measured: `${fmt(c.ratio_to_unbatched.median)} (min ${fmt(c.ratio_to_unbatched.min)}, max ${fmt(c.ratio_to_unbatched.max)})`, met: batchTarget ? c.ratio_to_unbatched.median >= 0.97 : null });
      }
    }
    for (const q of m.mqtt ?? []) {
      rows.push({ target: `MQTT overhead p50 <= 2 ms (${q.broker})`, model: name, measured: `${fmt(q.latency_ms.overhead_p50)} ms`, met: q.latency_ms.overhead_p50 <= 2 });
      rows.push({ target: `MQTT overhead p99 <= 10 ms (${q.broker})`, model: name, measured: `${fmt(q.latency_ms.overhead_p99)} ms`, met: q.latency_ms.overhead_p99 <= 10 });
      rows.push({ target: `pipeline >= 1000 tasks/s, instant engine (${q.broker})`, model: name, measured: `${fmt(q.pipeline.tasks_per_s, 0)} tasks/s`, met: q.pipeline.tasks_per_s >= 1000 });
    }
    // Issue 18: readings into SQLite, batched, on every path measured; a job run's cost is reported
    const j = m.jobs;
    for (const x of j?.store ?? []) {
      rows.push({ target: `readings ingestion >= 5000 messages/s (store alone, synchronous ${x.synchronous})`, model: name, measured: `${fmt(x.messages_per_s.median, 0)} messages/s (min ${fmt(x.messages_per_s.min, 0)}, max ${fmt(x.messages_per_s.max, 0)})`, met: x.messages_per_s.median >= 5000 });
    }
    for (const x of j?.broker ?? []) {
      const lost = x.lost ? `; ${x.lost} lost` : '';
      rows.push({ target: `readings ingestion >= 5000 messages/s (${x.broker}, QoS ${x.qos})`, model: name, measured: `${fmt(x.messages_per_s.median, 0)} messages/s (min ${fmt(x.messages_per_s.min, 0)}, max ${fmt(x.messages_per_s.max, 0)})${lost}`, met: x.messages_per_s.median >= 5000 && !x.lost });
    }
    for (const r of j?.job_runs ?? []) {
      rows.push({ target: `job run over ${r.readings} readings, max_rows ${r.max_rows} (cost, reported)`, model: name, measured: `${fmt(r.total_ms.median, 0)} ms median: dry run ${fmt(r.dry_run_ms.median, 1)} ms, model ${fmt(r.model_total_ms.median, 0)} ms for ${r.completion_tokens} tokens (${r.finish_reason})`, met: null });
    }
    const a = m.memory;
    if (a?.rss_idle_mb !== undefined) {
      const limit = m.file_mb + 150;
      const split = (x?: { anon_mb: number; file_mb: number }) => (x ? `anonymous ${x.anon_mb} + file-mapped ${x.file_mb}` : '');
      const idleSplit = a.rss_idle_split_mb ? `; ${split(a.rss_idle_split_mb)}` : '';
      rows.push({ target: 'agent RSS idle <= model file + 150 MB', model: name, measured: `${a.rss_idle_mb} MB (file ${m.file_mb} MB, limit ${fmt(limit, 1)}${idleSplit})`, met: a.rss_idle_mb <= limit });
      rows.push({ target: 'agent RSS peak <= model file + 150 MB', model: name, measured: `${a.rss_peak_mb} MB during ${a.long_generation.tokens} tokens`, met: a.rss_peak_mb <= limit });
      // Allocator noise on a few-MB heap: under 2 MB over 100 generations counts as none.
      rows.push({ target: `no RSS growth over ${a.growth.generations} generations`, model: name, measured: `${a.growth.growth_mb} MB${a.growth.first_split_mb ? ` (${split(a.growth.first_split_mb)} -> ${split(a.growth.last_split_mb)})` : ''}`, met: a.growth.growth_mb < 2 });
    }
    if (a?.event_loop_delay_ms) rows.push({ target: 'event-loop delay p99 <= 20 ms during generation', model: name, measured: `${a.event_loop_delay_ms.p99} ms (max ${a.event_loop_delay_ms.max})`, met: a.event_loop_delay_ms.p99 <= 20 });
  }
  return rows;
}
