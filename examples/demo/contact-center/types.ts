/** The contact center's configuration and the messages of its processes. */

export interface AgentConfig {
  readonly id: string;
  /** Tasks at once: the permits of `agent:<id>:slots`. */
  readonly capacity: number;
  /** Logs out (takes `agent:<id>:away`) after finishing this many tasks; never when absent. */
  readonly logoutAfter?: number;
}

export interface TaskOffer {
  readonly id: number;
  /** 1 (low) to 3 (high). */
  readonly priority: number;
  /** How long the conversation takes, ms. */
  readonly duration: number;
}

export interface ManagerConfig {
  readonly agents: readonly { readonly id: string; readonly capacity: number }[];
}
