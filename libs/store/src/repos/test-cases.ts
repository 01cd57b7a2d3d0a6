import { and, asc, eq } from 'drizzle-orm';
import type { StoreDb } from '../db.js';
import { StoreError, toStoreError } from '../errors.js';
import { testCaseRuns, testCases, type TestCaseExpected } from '../schema.js';

export type TestCase = typeof testCases.$inferSelect;
export type TestCaseRun = typeof testCaseRuns.$inferSelect;
export type { TestCaseExpected };

export interface NewTestCase {
  projectId: string;
  name: string;
  raw: string;
  contentType?: string;
  startItem?: string | null;
  expected: TestCaseExpected;
  createdBy: string | null;
}

export type TestCasePatch = Partial<Pick<NewTestCase, 'name' | 'raw' | 'contentType' | 'startItem' | 'expected'>>;

/** A project's saved sandbox test cases and their outcome per config version. Every method is scoped by project id. */
export class TestCasesRepo {
  constructor(private readonly db: StoreDb) {}

  /** @throws StoreError `store.conflict` when the project has a case of that name. */
  async create(input: NewTestCase): Promise<TestCase> {
    try {
      const [row] = await this.db.insert(testCases).values(input).returning();
      return row;
    } catch (e) {
      throw toStoreError(e, 'testCases.create');
    }
  }

  async list(projectId: string): Promise<TestCase[]> {
    return this.db.select().from(testCases).where(eq(testCases.projectId, projectId)).orderBy(asc(testCases.name));
  }

  async get(projectId: string, id: string): Promise<TestCase | undefined> {
    const [row] = await this.db
      .select()
      .from(testCases)
      .where(and(eq(testCases.projectId, projectId), eq(testCases.id, id)));
    return row;
  }

  /** @throws StoreError `store.not_found`, `store.conflict` */
  async update(projectId: string, id: string, patch: TestCasePatch): Promise<TestCase> {
    try {
      const [row] = await this.db
        .update(testCases)
        .set({ ...patch, updatedAt: new Date() })
        .where(and(eq(testCases.projectId, projectId), eq(testCases.id, id)))
        .returning();
      if (!row) throw new StoreError('store.not_found', `test case ${id} not found`, { details: { id } });
      return row;
    } catch (e) {
      throw toStoreError(e, 'testCases.update');
    }
  }

  /** False when there is no such case in the project. */
  async delete(projectId: string, id: string): Promise<boolean> {
    const rows = await this.db
      .delete(testCases)
      .where(and(eq(testCases.projectId, projectId), eq(testCases.id, id)))
      .returning({ id: testCases.id });
    return rows.length > 0;
  }

  /** Records a case's outcome on a version (a second run of the same version replaces it). */
  async recordRun(run: { caseId: string; projectId: string; version: number; passed: boolean; failures: string[] }): Promise<void> {
    await this.db
      .insert(testCaseRuns)
      .values(run)
      .onConflictDoUpdate({ target: [testCaseRuns.caseId, testCaseRuns.version], set: { passed: run.passed, failures: run.failures, ranAt: new Date() } });
  }

  /** The outcomes recorded for a version of the project. */
  async runs(projectId: string, version: number): Promise<TestCaseRun[]> {
    return this.db
      .select()
      .from(testCaseRuns)
      .where(and(eq(testCaseRuns.projectId, projectId), eq(testCaseRuns.version, version)));
  }
}
