import { describe, expect, it } from 'vitest';
import { decideApproval } from '../../core/engine/decide.ts';
import { approvedEvent, deliver, harness, invoke, Killer, lockOf, messagesOf, rollback, widgetEvent, WIDGET } from '../support/crash-harness.ts';

/**
 * One stop at every await of a delivery (before and after each request to the table, the resource
 * and Slack), then deliveries until the event settles: the record, the resource and Slack agree,
 * the change was made once, the state before is kept, and it rolls back.
 */
describe('a stop at every await of an automatic fix', () => {
  for (const steps of [1, 2] as const) {
    it(`${steps}-step plan`, async () => {
      const probe = harness({ steps });
      probe.world.levels.set('w', 'unsafe');
      const points = new Killer();
      await invoke(probe, widgetEvent('w'), points);
      const failures: Record<string, string[]> = {};
      for (let k = 1; k <= points.seq; k++) {
        for (const when of ['before', 'after'] as const) {
          const h = harness({ steps });
          h.world.levels.set('w', 'unsafe');
          const { result, log } = await deliver(h, widgetEvent('w'), [[k, when]]);
          const problems: string[] = [];
          const records = [...h.ledger.records.values()].filter((record) => record.resource === `${WIDGET}/w`);
          if (h.world.writes !== steps) problems.push(`writes ${h.world.writes}`);
          if (records.length !== 1) problems.push(`records ${records.length}`);
          for (const record of records) {
            if (record.status !== 'final' || record.outcome !== 'remediated') problems.push(`record ${record.status}/${record.outcome}: ${record.reason}`);
            if (JSON.stringify(record.before?.state) !== '{"level":"unsafe"}') problems.push(`before ${JSON.stringify(record.before)}`);
            if (record.steps.length !== steps) problems.push(`steps recorded ${record.steps.length}`);
            const messages = messagesOf(h, record.recordId);
            if (messages.posts !== 1 || messages.last !== record.outcome) problems.push(`Slack ${JSON.stringify(messages)}`);
          }
          if (lockOf(h, 'w')?.intent) problems.push('lock keeps the intent');
          if (result?.recordId && problems.length === 0) {
            h.clock.now += 1_000;
            const undone = await rollback(h, result.recordId);
            if (undone.outcome !== 'rolled-back' || h.world.levels.get('w') !== 'unsafe') problems.push(`rollback ${undone.outcome}: ${undone.reason}`);
          }
          if (problems.length > 0) failures[`${k}:${points.points[k - 1]}:${when}`] = [...problems, ...log];
        }
      }
      expect(failures).toEqual({});
    }, 60_000);
  }
});

describe('a stop at every await of asking a person', () => {
  it('one question, posted once; approving it applies the change once', async () => {
    const probe = harness({ mode: 'approve' });
    probe.world.levels.set('q', 'unsafe');
    const points = new Killer();
    await invoke(probe, widgetEvent('q'), points);
    const failures: Record<string, string[]> = {};
    for (let k = 1; k <= points.seq; k++) {
      for (const when of ['before', 'after'] as const) {
        const h = harness({ mode: 'approve' });
        h.world.levels.set('q', 'unsafe');
        const finding = widgetEvent('q');
        const asked = await deliver(h, finding, [[k, when]]);
        const approvalId = asked.result?.approvalId ?? [...h.ledger.approvals.keys()][0] ?? '';
        await decideApproval(h.ledger, { approvalId, decision: 'approve', by: 'U0ALICE', now: h.clock.now, suppressionDays: 30 });
        const applied = await deliver(h, approvedEvent(approvalId));
        const problems: string[] = [];
        if (asked.result?.outcome !== 'pending-approval') problems.push(`asked ${asked.result?.outcome}`);
        if (applied.result?.outcome !== 'remediated') problems.push(`applied ${applied.result?.outcome}`);
        if (h.world.writes !== 1) problems.push(`writes ${h.world.writes}`);
        if (h.announcer.posts.length !== 1) problems.push(`posts ${h.announcer.posts.length}`);
        if (!h.ledger.approvals.get(approvalId)?.message) problems.push('the approval has no message');
        if (h.ledger.approvals.get(approvalId)?.status !== 'applied') problems.push(`approval ${h.ledger.approvals.get(approvalId)?.status}`);
        if (problems.length > 0) failures[`${k}:${points.points[k - 1]}:${when}`] = [...problems, ...asked.log, ...applied.log];
      }
    }
    expect(failures).toEqual({});
  }, 60_000);
});
