/**
 * Home Assistant MQTT discovery (#5): one retained config message per entity under
 * `<prefix>/sensor/<node>/<object>/config`, each reading its value out of the
 * retained metrics payload with a template, so nothing needs configuring in HA.
 * A value the board lacks renders as None, which HA shows as unknown, not 0.
 */
import { haTopics } from '../../protocol/topics.js';
export interface DiscoveryInput {
  /** HA's discovery prefix, `homeassistant` unless the site changed it. */
  prefix: string;
  base: string;
  device: string;
  agent_version: string;
  board_model?: string;
  /** Whether the board has power rails (Jetson): adds a power entity. */
  has_power: boolean;
  /** How HA reads online/offline from the agent's retained status (its `state` key). */
  availability_template?: string;
}

export interface DiscoveryMessage {
  topic: string;
  payload: Record<string, unknown>;
}

// object ids and unique ids allow only [a-zA-Z0-9_-]
const safe = (s: string) => s.replace(/[^a-zA-Z0-9_-]/g, '_');

const optional = (path: string) => `{{ ${path} if ${path} is defined else None }}`;

export function discoveryMessages(d: DiscoveryInput): DiscoveryMessage[] {
  const node = `reasond_${safe(d.device)}`;
  const stateTopic = `${d.base}/${d.device}/metrics`;
  const device = {
    identifiers: [node],
    name: `reasond ${d.device}`,
    manufacturer: 'reasond',
    model: d.board_model ?? 'Linux board',
    sw_version: d.agent_version,
  };
  const common = {
    state_topic: stateTopic,
    availability_topic: `${d.base}/${d.device}/status`,
    availability_template: d.availability_template ?? '{{ value_json.state }}',
    payload_available: 'online',
    payload_not_available: 'offline',
    device,
  };
  const entities: [string, Record<string, unknown>][] = [
    ['temperature', { name: 'Temperature', device_class: 'temperature', unit_of_measurement: '°C', state_class: 'measurement', value_template: optional('value_json.thermal.hottest_c') }],
    ['decode_speed', { name: 'Decode speed', unit_of_measurement: 'tokens/s', state_class: 'measurement', icon: 'mdi:speedometer', value_template: optional('value_json.throughput.decode_tokens_per_s.p50') }],
    ['tasks_per_minute', { name: 'Tasks per minute', unit_of_measurement: 'tasks/min', state_class: 'measurement', icon: 'mdi:brain', value_template: '{{ value_json.throughput.tasks_per_min }}' }],
    ['thermal_state', { name: 'Thermal state', device_class: 'enum', options: ['normal', 'soft', 'hard'], icon: 'mdi:thermometer-alert', value_template: '{{ value_json.thermal.guard }}' }],
    ['memory_available', { name: 'Memory available', device_class: 'data_size', unit_of_measurement: 'B', state_class: 'measurement', value_template: optional('value_json.memory.system_available_bytes') }],
  ];
  if (d.has_power)
    entities.push(['power', { name: 'Power', device_class: 'power', unit_of_measurement: 'W', state_class: 'measurement', value_template: optional('value_json.power.board_w') }]);
  const sensors = entities.map(([object, entity]) => ({
    topic: `${d.prefix}/sensor/${node}/${object}/config`,
    payload: { ...entity, unique_id: `${node}_${object}`, object_id: `${node}_${object}`, ...common },
  }));
  // Asking the board (issue 20): a text entity whose value is sent as a task, and a sensor with the last
  // answer (HA keeps states to 255 characters; the whole answer and the reasoning are attributes).
  const ask = haTopics(d.base, d.device);
  const { state_topic: _metrics, ...rest } = common;
  return [
    ...sensors,
    {
      topic: `${d.prefix}/text/${node}/ask/config`,
      payload: { name: 'Ask', icon: 'mdi:chat-question', mode: 'text', min: 1, max: 255, command_topic: ask.ask, unique_id: `${node}_ask`, object_id: `${node}_ask`, ...rest },
    },
    {
      topic: `${d.prefix}/sensor/${node}/answer/config`,
      payload: {
        name: 'Answer', icon: 'mdi:head-lightbulb', state_topic: ask.answer,
        value_template: "{{ (value_json.answer if value_json.status == 'ok' else 'error: ' ~ value_json.error.code)[:255] }}",
        json_attributes_topic: ask.answer,
        json_attributes_template: "{{ {'answer': value_json.get('answer'), 'reasoning': value_json.get('reasoning'), 'finish_reason': value_json.get('finish_reason'), 'error': value_json.get('error'), 'task_id': value_json.id} | tojson }}",
        unique_id: `${node}_answer`, object_id: `${node}_answer`, ...rest,
      },
    },
  ];
}
