import type { ControlPlugin } from './types.js';

// The parts of the control plane main.ts mounts: node API, admin API, dashboard. Filled in at
// merge (nodeApiPlugin from './node-api.js', adminApiPlugin from './admin-api.js',
// dashboardPlugin from '../../dashboards/plugin.js').
export const controlPlugins: ControlPlugin[] = [];
