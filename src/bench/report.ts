/**
 * Markdown tables from result files (issue 9), for docs/BENCHMARKS.md:
 * `reasond bench --report bench/results/<file>.json`.
 */
const s = (x: any, d = 1) => (x === undefined || x === null || Number.isNaN(x) ? '–' : String(Math.round(x * 10 ** d) / 10 ** d));
const range = (v: any, d = 1) => (v ? `${s(v.median, d)} (${s(v.min, d)}–${s(v.max, d)})` : '–');
const table = (head: string[], rows: string[][]) => [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');

export function renderReport(r: any, name: string): string {
  const out: string[] = [];
  const m = r.machine;
  const v = r.versions;
  out.push(`### ${name}`, '', table(['', ''], [
    ['date', r.date], ['machine', `${m.cpu}, ${m.cores} cores, ${m.arch}, ${m.memory_gb} GB, ${m.os}`],
    ['load average at start', m.load_average_at_start.join(' ')],
    ...(m.read_bandwidth_gb_s ? [['read bandwidth', `${m.read_bandwidth_gb_s} GB/s (onnxruntime ReduceSum over 1 GiB)`]] : []),
    ['versions', `reasond ${v.reasond} (${v.git_commit}), node ${v.node}, onnxruntime-node ${v.onnxruntime_node}, transformers.js ${v.transformers_js}`],
    ['options', `suites ${r.options.suites.join(',')}; threads ${r.options.threads || 'all'}; ${r.options.prefill_chunk === undefined ? '' : `engine prefill chunk ${r.options.prefill_chunk || 'off'}; `}contexts ${r.options.contexts.join(',')}; ${r.options.new_tokens} new tokens; ${r.options.reps} reps; ${r.duration_s} s`],
  ]), '');
  for (const [model, x] of Object.entries<any>(r.models)) {
    out.push(`#### ${model}: ${x.dtype}, ${x.file_mb} MB, context ${x.context_length}`, '');
    if (x.engine?.contexts) {
      const rows: string[][] = [];
      for (const c of x.engine.contexts) {
        for (const [impl, f] of Object.entries<any>(c.impls)) {
          const noisy = c.noisy ? ` (noisy: load ${c.load_average.join(' → ')})` : '';
          if (f.mismatch) rows.push([String(c.prompt_tokens), impl, `tokens differ from ${impl.startsWith('engine') && c.impls.floor_rewritten ? 'floor_rewritten' : 'the floor'} at ${f.mismatch.at}`, '', '', '', '']);
          else if (f.error) rows.push([String(c.prompt_tokens), impl, `error: ${f.error}`, '', '', '', '']);
          else rows.push([String(c.prompt_tokens) + noisy, impl, range(f.decode_tokens_per_s), range(f.ratio_to_floor?.decode, 2), range(f.prefill_tokens_per_s), range(f.first_token_ms, 0), range(f.ratio_to_floor?.first_token, 2)]);
        }
      }
      if (x.engine.rewrites) out.push(`The engine served ${x.engine.rewrites.length ? `a rewritten graph (${x.engine.rewrites.join(', ')})` : 'the plain graph'}; the floor ran the plain file.`, '');
      out.push(`Engine suite (${x.engine.reps} reps, ${x.engine.threads} threads; median (min–max); tokens identical unless said):`, '',
        table(['prompt tokens', 'implementation', 'decode tok/s', 'decode ÷ floor', 'prompt tok/s to first token', 'first token ms', 'first token, floor ÷ this'], rows), '');
      if (x.engine.step_split?.length) {
        out.push('Where a decode step goes (in-process, ms per step; GC from V8 after the first token):', '', table(['prompt tokens', 'graph', 'run', 'KV write', 'sampling', 'GC', 'other', 'total'],
          x.engine.step_split.map((p: any) => [String(p.prompt_tokens), p.graph, s(p.run_ms, 2), s(p.kv_write_ms, 3), s(p.sample_ms, 3), s(p.gc_ms, 3), s(p.other_ms, 3), s(p.run_ms + p.kv_write_ms + p.sample_ms + p.gc_ms + p.other_ms, 2)])), '');
      }
      if (x.ceiling) {
        out.push(`Bandwidth ceiling: ${x.ceiling.read_gb_s} GB/s read ÷ (${s(x.ceiling.weights_bytes / 2 ** 20)} MiB of weights a step, the ${s(x.ceiling.gathered_bytes / 2 ** 20)} MiB embedding table gathered not read, + ${x.ceiling.kv_bytes_per_position} bytes of KV cache a position): ${Object.entries<number>(x.ceiling.tokens_per_s_at).map(([c, v]) => `${v} tok/s at ${c}`).join(', ')}.`, '');
      }
      if (x.engine.skipped_contexts?.length) out.push(`Skipped contexts (past the model's limit): ${x.engine.skipped_contexts.join(', ')}.`, '');
      if (x.engine.fetch_cost?.length) {
        out.push('One decode step at a given cache length (floor session, median):', '', table(['cached tokens', 'present.* per step', 'all outputs ms', 'logits only ms', 'fetching present.* ms', 'into pre-allocated outputs ms', 'plain JS copy of those bytes ms'],
          x.engine.fetch_cost.map((f: any) => [String(f.context), `${s(f.present_bytes / 2 ** 20)} MiB`, s(f.all_outputs_ms, 2), s(f.logits_only_ms, 2), s(f.all_outputs_ms - f.logits_only_ms, 2), s(f.preallocated_ms, 2), s(f.js_copy_ms, 2)])), '');
      }
    } else if (x.engine?.error) out.push(`Engine suite failed: ${x.engine.error}`, '');
    if (Array.isArray(x.concurrency)) {
      out.push('Concurrency (tasks submitted at once to one engine; max_batch 1 is the engine before batching, measured in the same run):', '', table(['tasks', 'max_batch', 'all tokens ÷ wall, tok/s', '÷ one task alone', 'decode rates summed, tok/s', '÷ one task alone', 'median first token ms'],
        x.concurrency.map((c: any) => [String(c.tasks), String(c.max_batch ?? 1), range(c.aggregate_tokens_per_s), c.ratio_to_one ? range(c.ratio_to_one) : c.ratio_to_unbatched ? `${range(c.ratio_to_unbatched)} of unbatched` : '',
          c.decode_tokens_per_s ? range(c.decode_tokens_per_s) : '', c.decode_ratio_to_one ? range(c.decode_ratio_to_one) : '', range(c.first_token_ms_p50, 0)])), '');
      const st = x.concurrency.find((c: any) => c.steps)?.steps;
      if (st) out.push(`One decode step in-process, no prompt passes: 4 rows ${range(st.four_rows_ms, 2)} ms, 1 row ${range(st.one_row_ms, 2)} ms; 4 rows give ${range(st.ratio, 2)} × the tokens per second of 1.${st.floor_ratio ? ` The minimal batched loop on the plain file: 4 rows ${range(st.floor_four_rows_ms, 2)} ms, 1 row ${range(st.floor_one_row_ms, 2)} ms, ${range(st.floor_ratio, 2)} ×.` : ''}`, '');
    }
    if (Array.isArray(x.mqtt)) {
      out.push('MQTT (short task, 8 new tokens; overhead paired with the direct call before it; pipeline: journal_durability full, and normal measured right after):', '', table(['broker', 'direct p50/p99 ms', 'via MQTT p50/p99 ms', 'overhead p50 ms', 'overhead p99 ms', 'pipeline tasks/s (instant engine)', 'with journal normal'],
        x.mqtt.map((q: any) => [`${q.broker} ${q.broker_version ?? ''}`, `${s(q.latency_ms.direct_p50)} / ${s(q.latency_ms.direct_p99)}`, `${s(q.latency_ms.mqtt_p50)} / ${s(q.latency_ms.mqtt_p99)}`, s(q.latency_ms.overhead_p50), s(q.latency_ms.overhead_p99), `${s(q.pipeline.tasks_per_s, 0)} (${q.pipeline.ok}/${q.pipeline.tasks} ok)`, q.pipeline_normal ? s(q.pipeline_normal.tasks_per_s, 0) : ''])), '');
    }
    if (x.memory?.rss_idle_mb !== undefined) {
      const a = x.memory;
      out.push('Agent process (embedded broker, SQLite, telemetry, engine worker):', '', table(['model file MB', 'RSS idle MB', 'RSS peak MB', 'long generation', `RSS growth over ${a.growth.generations} generations`, 'event-loop delay p50 / p99 / max ms'], [[
        s(x.file_mb), s(a.rss_idle_mb), s(a.rss_peak_mb), `${a.long_generation.tokens} tokens at ${s(a.long_generation.decode_tokens_per_s)} tok/s`,
        `${s(a.growth.growth_mb)} MB (${a.growth.rss_series_mb.join(', ')})`, `${s(a.event_loop_delay_ms.p50, 2)} / ${s(a.event_loop_delay_ms.p99, 2)} / ${s(a.event_loop_delay_ms.max, 2)}`]]), '');
    } else if (x.memory?.error) out.push(`Memory probe failed: ${x.memory.error}`, '');
    if (x.jobs?.store) {
      const j = x.jobs;
      out.push(`Readings into SQLite (issue 18; median (min–max) of ${j.store[0]?.reps ?? '–'} runs; end to end: an agent with an instant engine, ${j.broker[0]?.messages ?? '–'} readings to 8 topics, ${j.broker[0]?.window ?? '–'} in flight, until all are written):`, '', table(['path', 'messages', 'messages/s', 'ms', 'publishing ms', 'lost'], [
        ...j.store.map((y: any) => [`store alone, synchronous ${y.synchronous}`, String(y.messages), range(y.messages_per_s, 0), range(y.ms, 0), '', '']),
        ...j.broker.map((y: any) => [`${y.broker} ${y.broker_version ?? ''}, QoS ${y.qos}`, String(y.messages), range(y.messages_per_s, 0), range(y.ms, 0), range(y.publish_ms, 0), String(y.lost)]),
      ]), '');
      if (j.job_runs?.length) {
        out.push(`Job runs on this model (${j.job_runs[0].runs} each, taking turns; median (min–max); the dry run is the input read, reduction, prompt render and context check):`, '', table(['job', 'readings → given to the model', 'run ms', 'dry run ms', 'model ms', 'tokens prompt + new', 'answer (right)'],
          j.job_runs.map((r: any) => [`max_rows ${r.max_rows}`, `${r.readings} → ${r.used_rows}`, range(r.total_ms, 0), range(r.dry_run_ms, 1), range(r.model_total_ms, 0), `${r.prompt_tokens} + ${r.completion_tokens} (${r.finish_reason})`, `${JSON.stringify(r.answer)} (${r.expected_answer})`])), '');
      }
    } else if (x.jobs?.error) out.push(`Jobs suite failed: ${x.jobs.error}`, '');
    if (x.accuracy?.tasks) {
      const a = x.accuracy;
      out.push(`Accuracy: ${a.correct}/${a.tasks} = ${a.accuracy_percent}% (${a.families.map((f: any) => `${f.family} ${f.accuracy}%`).join(', ')}), decode ${a.decode_tokens_per_s} tok/s, greedy.`, '');
    } else if (x.accuracy?.skipped) out.push(`Accuracy: skipped (${x.accuracy.skipped}).`, '');
  }
  out.push('Targets:', '', table(['target', 'model', 'measured', ''], r.targets.map((t: any) => [t.target, t.model, t.measured, t.met === null ? 'for information' : t.met ? 'meets' : '**misses**'])), '');
  return out.join('\n');
}
