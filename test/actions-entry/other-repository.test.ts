/**
 * The bundles as another repository runs them: the workspace is the CALLER's checkout (no kindling
 * manifests in it) and the action lives elsewhere — where the runner downloaded
 * `OWNER/kindling/actions/<name>@REF` (`_actions/OWNER/kindling/REF/actions/<name>`), or the
 * `.kindling` checkout the reusable workflows make.
 */
import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeWithServices, type RunningRedis, startRedis } from '../harness/services.ts';
import { hasBundle, missingBundle, REPO, runAction } from './run-action.ts';

if (!hasBundle('verify')) missingBundle('verify');
else
  describeWithServices('actions/verify bundle run from another repository', ['redis'], () => {
    let redis: RunningRedis;
    let workspace: string;
    let downloaded: string;
    beforeAll(async () => {
      redis = await startRedis({ config: ['--maxmemory-policy', 'allkeys-lru', '--appendonly', 'yes'] });
      workspace = mkdtempSync(join(tmpdir(), 'kindling-caller-'));
      // the reusable workflows' layout: kindling checked out into .kindling of the caller's workspace
      symlinkSync(REPO, join(workspace, '.kindling'));
      // the runner's layout for `uses: OWNER/kindling/actions/verify@v1`
      downloaded = join(workspace, '..', `${workspace.split('/').pop()}-actions`, 'OWNER', 'kindling');
      mkdirSync(downloaded, { recursive: true });
      symlinkSync(REPO, join(downloaded, 'v1'));
    });
    afterAll(async () => {
      await redis?.stop();
      rmSync(workspace, { recursive: true, force: true });
      rmSync(join(downloaded, '..', '..'), { recursive: true, force: true });
    });
    const inputs = () => ({ target: 'local', components: 'redis', endpoints: `redis=${redis.url}` });

    it('from the .kindling checkout, with the catalog input the reusable workflows pass', async () => {
      const r = await runAction(
        'verify',
        { ...inputs(), catalog: '.kindling/manifests/stack.yaml' },
        { cwd: workspace, root: join(workspace, '.kindling') },
      );
      expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(0);
      expect(Number(r.outputs.passed)).toBeGreaterThan(0);
    });

    it('as OWNER/kindling/actions/verify@v1 with its defaults: finds the catalog next to the action', async () => {
      const r = await runAction('verify', inputs(), { cwd: workspace, root: join(downloaded, 'v1') });
      expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(0);
      expect(Number(r.outputs.passed)).toBeGreaterThan(0);
    });
  });
