extension Schema {
    // 8: workflows and outgoing webhooks.
    //    - event_cursors: where each consumer of the events table (one per workflow, one for
    //      outgoing webhooks) has got to. A consumer locks its row, reads on, records what the
    //      events cause and moves the cursor in one transaction, so an event is handled once.
    //    - workflow_runs: one per trigger; a run that waits (a timer, a reply) is a row with a
    //      due time, claimed with a lease like the outbox, never a sleeping task.
    //      once_contact_id is set only for once-per-contact workflows: unique per workflow.
    //    - workflow_run_steps: the step-by-step log.
    //    - workflow_rotations: round-robin positions, per workflow and step.
    //    - webhook_subscriptions / webhook_deliveries: outgoing webhooks and their durable
    //      delivery rows with attempts, backoff and the last response.
    static let workflows = Migration(version: 8, name: "workflows") { f in
        let id = f.identityPrimaryKey, big = f.bigint, bool = f.boolean
        return [
            """
            CREATE TABLE workflows (
                id \(id),
                workspace_id \(big) NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
                name TEXT NOT NULL,
                trigger_kind TEXT NOT NULL,
                once_per_contact \(bool) NOT NULL DEFAULT \(f.literal(false)),
                definition TEXT NOT NULL,
                enabled \(bool) NOT NULL DEFAULT \(f.literal(false)),
                template TEXT,
                webhook_secret_hash TEXT,
                created_at \(big) NOT NULL,
                updated_at \(big) NOT NULL
            )
            """,
            "CREATE INDEX workflows_workspace ON workflows (workspace_id, id)",
            """
            CREATE TABLE event_cursors (
                consumer TEXT PRIMARY KEY,
                tx TEXT NOT NULL,
                event_id \(big) NOT NULL,
                updated_at \(big) NOT NULL
            )
            """,
            """
            CREATE TABLE workflow_runs (
                id \(id),
                workspace_id \(big) NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
                workflow_id \(big) NOT NULL REFERENCES workflows(id) ON DELETE CASCADE,
                contact_id \(big) REFERENCES contacts(id) ON DELETE CASCADE,
                conversation_id \(big),
                event_id \(big),
                once_contact_id \(big),
                status TEXT NOT NULL,
                current_step TEXT,
                wait_kind TEXT,
                due_at \(big),
                locked_until \(big),
                steps_taken INTEGER NOT NULL DEFAULT 0,
                depth INTEGER NOT NULL DEFAULT 0,
                context TEXT NOT NULL,
                created_at \(big) NOT NULL,
                updated_at \(big) NOT NULL,
                finished_at \(big)
            )
            """,
            "CREATE UNIQUE INDEX workflow_runs_event ON workflow_runs (workflow_id, event_id)",
            "CREATE UNIQUE INDEX workflow_runs_once ON workflow_runs (workflow_id, once_contact_id)",
            "CREATE INDEX workflow_runs_due ON workflow_runs (due_at)",
            "CREATE INDEX workflow_runs_list ON workflow_runs (workflow_id, id)",
            "CREATE INDEX workflow_runs_reply ON workflow_runs (contact_id, wait_kind)",
            """
            CREATE TABLE workflow_run_steps (
                id \(id),
                run_id \(big) NOT NULL REFERENCES workflow_runs(id) ON DELETE CASCADE,
                step_id TEXT NOT NULL,
                step_type TEXT NOT NULL,
                outcome TEXT NOT NULL,
                input TEXT,
                detail TEXT,
                created_at \(big) NOT NULL
            )
            """,
            "CREATE INDEX workflow_run_steps_run ON workflow_run_steps (run_id, id)",
            """
            CREATE TABLE workflow_rotations (
                workflow_id \(big) NOT NULL REFERENCES workflows(id) ON DELETE CASCADE,
                step_id TEXT NOT NULL,
                position \(big) NOT NULL,
                PRIMARY KEY (workflow_id, step_id)
            )
            """,
            """
            CREATE TABLE webhook_subscriptions (
                id \(id),
                workspace_id \(big) NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
                url TEXT NOT NULL,
                event_types TEXT NOT NULL,
                secret TEXT NOT NULL,
                enabled \(bool) NOT NULL DEFAULT \(f.literal(true)),
                created_at \(big) NOT NULL
            )
            """,
            "CREATE INDEX webhook_subscriptions_workspace ON webhook_subscriptions (workspace_id, id)",
            """
            CREATE TABLE webhook_deliveries (
                id \(id),
                workspace_id \(big) NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
                subscription_id \(big) NOT NULL REFERENCES webhook_subscriptions(id) ON DELETE CASCADE,
                event_id \(big) NOT NULL,
                event_type TEXT NOT NULL,
                payload TEXT NOT NULL,
                status TEXT NOT NULL,
                attempts INTEGER NOT NULL DEFAULT 0,
                next_attempt_at \(big),
                locked_until \(big),
                response_code INTEGER,
                last_error TEXT,
                created_at \(big) NOT NULL,
                delivered_at \(big)
            )
            """,
            "CREATE UNIQUE INDEX webhook_deliveries_event ON webhook_deliveries (subscription_id, event_id)",
            "CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at)",
        ]
    }
}
