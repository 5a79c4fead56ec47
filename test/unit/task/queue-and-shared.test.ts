/** The task queue's order and bound, and the embedded broker's shared-subscription choice. */
import test from 'ava';
import { parseShared, SharedGroups } from '../../../src/mqtt/shared-subscriptions.js';
import { topicMatches } from '../../../src/protocol/topics.js';
import { TaskQueue } from '../../../src/task/queue.js';

test('higher priority first, then arrival order; the bound counts waiting tasks', (t) => {
  const q = new TaskQueue<{ id: string; priority: number; seq: number }>(3);
  q.push({ id: 'a', priority: 0, seq: 0 });
  q.push({ id: 'b', priority: 5, seq: 1 });
  q.push({ id: 'c', priority: 0, seq: 2 });
  t.true(q.full);
  t.is(q.remove('c')?.id, 'c');
  q.push({ id: 'd', priority: 5, seq: 3 });
  t.deepEqual([q.shift()?.id, q.shift()?.id, q.shift()?.id, q.shift()], ['b', 'd', 'a', undefined]);
});

test('a shared group hands each message to one member, round robin, and forgets members that leave', (t) => {
  const g = new SharedGroups();
  t.deepEqual(parseShared('$share/p1/reasond/pool/p1/task'), { group: 'p1', filter: 'reasond/pool/p1/task' });
  t.is(parseShared('reasond/x/task'), undefined);
  g.join('a', 'p1', 'reasond/pool/p1/task');
  g.join('b', 'p1', 'reasond/pool/p1/task');
  const winners = ['m1', 'm2', 'm3', 'm4'].map((m) => ['a', 'b'].filter((c) => g.allow(c, m, 'reasond/pool/p1/task')));
  t.deepEqual(winners, [['a'], ['b'], ['a'], ['b']]);
  t.true(g.allow('a', 'm5', 'reasond/a/task'), 'topics outside the group are not filtered');
  g.leave('a');
  t.true(g.allow('b', 'm6', 'reasond/pool/p1/task'));
  t.true(g.allow('b', 'm7', 'reasond/pool/p1/task'), 'the one member left gets every message');
});

test('topic filters match like MQTT', (t) => {
  t.true(topicMatches('a/+/c', 'a/b/c'));
  t.true(topicMatches('a/#', 'a/b/c'));
  t.false(topicMatches('a/+', 'a/b/c'));
  t.false(topicMatches('a/b', 'a'));
});
