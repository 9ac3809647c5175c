import ParleyCore

extension OpenAPIDocument {
    /// Schemas of the browser session and the realtime stream.
    static let realtimeSchemas: [(String, JSONValue)] = [
        ("InboxTally", Schema.object([("open", Schema.integer), ("unread", Schema.integer)], required: ["open", "unread"])),
        ("InboxCounts", Schema.object([
            ("all", ["oneOf": [Schema.ref("InboxTally"), ["type": "null"]]]), ("mine", Schema.ref("InboxTally")), ("unassigned", Schema.ref("InboxTally")),
        ], required: ["all", "mine", "unassigned"])),
        ("SessionRequest", Schema.object([("email", Schema.string), ("password", Schema.string)], required: ["email", "password"])),
        ("SetupRequest", Schema.object([("token", Schema.string), ("password", Schema.string)], required: ["token", "password"])),
        ("Session", Schema.object([
            ("user", Schema.ref("User")),
            ("workspace", Schema.object([("id", Schema.integer), ("name", Schema.string)], required: ["id", "name"])),
            ("csrfToken", Schema.nullableString), ("expiresAt", Schema.nullableDateTime),
        ], required: ["user", "workspace", "csrfToken"])),
        ("EventTicket", Schema.object([("ticket", Schema.string), ("expiresAt", Schema.dateTime)], required: ["ticket", "expiresAt"])),
        ("Presence", Schema.object([
            ("online", Schema.array(Schema.object([("id", Schema.integer), ("name", Schema.string)], required: ["id", "name"]))),
        ], required: ["online"])),
    ]
}
