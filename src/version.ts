/** The agent's version, sent in every heartbeat. */
export const VERSION = "0.1.0";
