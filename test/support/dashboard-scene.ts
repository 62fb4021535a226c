import { afterAll, beforeAll } from 'vitest';
import { adminApiPlugin } from '../../balancer/control/admin-api.js';
import { dashboardPlugin } from '../../dashboards/plugin.js';
import { startControlPlane, type ControlPlane } from './control-harness.js';
import type { TestDatabase } from './db.js';

// A control plane with the admin API and the dashboard for a test file: started before its
// tests, closed after. Read `scene.cp` inside tests.

export const DASHBOARD_ADMIN_TOKEN = 'dash-admin-token-0123456789abcdef';

export function useDashboard(db: TestDatabase): { cp: ControlPlane } {
  const scene = {} as { cp: ControlPlane };
  beforeAll(async () => {
    scene.cp = await startControlPlane({ pool: db.pool, plugins: [adminApiPlugin, dashboardPlugin], adminToken: DASHBOARD_ADMIN_TOKEN });
  });
  afterAll(async () => {
    await scene.cp?.close();
  });
  return scene;
}
