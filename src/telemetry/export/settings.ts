/** Home Assistant discovery settings (config keys ha_discovery, ha_prefix). */
export interface HomeAssistantSettings {
  enabled: boolean;
  prefix: string;
  /** How HA reads online/offline out of the agent's retained status payload. */
  availability_template?: string;
}
