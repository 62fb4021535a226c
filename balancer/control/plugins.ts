import { dashboardPlugin } from '../../dashboards/plugin.js';
import { adminApiPlugin } from './admin-api.js';
import { nodeApiPlugin } from './node-api.js';
import type { ControlPlugin } from './types.js';

// The parts of the control plane main.ts mounts: node API, admin API, dashboard.
export const controlPlugins: ControlPlugin[] = [nodeApiPlugin, adminApiPlugin, dashboardPlugin];
