import ParleyCore

extension OpenAPIDocument {
    /// Schemas of queued messages, other ways to reach a contact, reminders and notifications.
    static let reachSchemas: [(String, JSONValue)] = [
        ("ReachOption", Schema.object([
            ("channelId", Schema.integer), ("channelType", Schema.enumeration(ChannelKind.allCases.map(\.rawValue))), ("channelName", Schema.string),
            ("allowed", Schema.array(Schema.enumeration(["free_text", "template", "tagged_message", "chatbot_initiated", "none"]))),
            ("summary", ["type": "string", "description": "what could be sent there now, in a few words (free text, template only, nothing now, …)"]),
            ("best", ["type": "boolean", "description": "the option to switch to in one action"]),
        ], required: ["channelId", "channelType", "channelName", "allowed", "summary", "best"])),
        ("QueuedMessagePatch", Schema.object([
            ("text", Schema.string), ("queueExpiresAt", ["type": "string", "format": "date-time"]),
        ])),
        ("WindowReminderInput", Schema.object([
            ("hoursBefore", ["type": "integer", "minimum": 1, "maximum": 167]),
        ], required: ["hoursBefore"])),
        ("WindowReminder", Schema.object([
            ("id", Schema.integer), ("conversationId", Schema.integer), ("contactId", Schema.integer), ("hoursBefore", Schema.integer),
            ("dueAt", ["type": ["string", "null"], "format": "date-time", "description": "when it fires for the window as it stands (it moves when the contact writes)"]),
            ("windowClosesAt", Schema.nullableDateTime), ("createdAt", Schema.dateTime), ("firedAt", Schema.nullableDateTime),
        ], required: ["id", "conversationId", "contactId", "hoursBefore", "createdAt"])),
        ("WindowReminderPage", Schema.page(of: "WindowReminder")),
        ("Notification", Schema.object([
            ("id", Schema.integer), ("kind", ["type": "string", "description": "window_closing"]), ("contactId", Schema.nullableInteger),
            ("conversationId", Schema.nullableInteger), ("text", Schema.string), ("createdAt", Schema.dateTime), ("readAt", Schema.nullableDateTime),
        ], required: ["id", "kind", "text", "createdAt"])),
        ("NotificationPage", Schema.page(of: "Notification")),
    ]
}
