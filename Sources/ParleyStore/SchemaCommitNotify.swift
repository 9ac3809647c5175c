extension Schema {
    // 11 (PostgreSQL): no notification inside the writing transactions. The trigger of
    //     migration 3 notified listeners of each new event from within its transaction, and
    //     PostgreSQL commits such transactions one at a time under a lock of its own; instances
    //     now notify after their commits instead (`CommitNotifier`).
    static let commitNotify = Migration(version: 11, name: "notify after commit") { f in
        guard f.kind == .postgres else { return [] }
        return [
            "DROP TRIGGER events_notify ON events",
            "DROP FUNCTION parley_notify_event()",
        ]
    }
}
