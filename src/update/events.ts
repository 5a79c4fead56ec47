/** What the update path reports on <base>/<device>/events and in admin replies: protocol/events.ts's model_update (docs/packages.md). */
export type { ModelUpdateEvent as UpdateEvent, UpdateState } from '../protocol/index.js';
