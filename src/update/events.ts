/** What the update path reports on <base>/<device>/events and in admin replies (docs/packages.md). */
export type UpdateState = 'downloading' | 'verifying' | 'probing' | 'switching' | 'active' | 'rejected' | 'rolled_back';

export interface UpdateEvent {
  type: 'model_update';
  state: UpdateState;
  name: string;
  version: string;
  percent?: number;
  /** A RejectReason for rejected; why, for rolled_back. */
  reason?: string;
  message?: string;
  /** For rolled_back: the version now serving (null = the configured model). */
  to?: string | null;
  ts: number;
}
