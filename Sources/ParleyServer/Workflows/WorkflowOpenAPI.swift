import ParleyCore

extension OpenAPIDocument {
    /// Schemas of workflows and outgoing webhooks.
    static let workflowSchemas: [(String, JSONValue)] = [
        ("WorkflowCondition", Schema.object([
            ("kind", Schema.enumeration(WorkflowCondition.Kind.allCases.map(\.rawValue))), ("negate", Schema.boolean),
            ("tag", Schema.string), ("field", Schema.string), ("op", Schema.enumeration(WorkflowCondition.Operator.allCases.map(\.rawValue))),
            ("value", Schema.string), ("from", ["type": "string", "description": "HH:MM"]), ("to", ["type": "string", "description": "HH:MM"]),
            ("days", Schema.array(["type": "integer", "minimum": 1, "maximum": 7])), ("timeZone", Schema.string),
            ("step", Schema.string), ("outcome", Schema.string),
        ], required: ["kind"])),
        ("WorkflowStep", Schema.object([
            ("id", Schema.string), ("type", Schema.enumeration(WorkflowStepType.allCases.map(\.rawValue))),
            ("next", ["type": "string", "description": "the step after this one ('end' ends the run); default: the next in order"]),
            ("continueOnFailure", Schema.boolean),
            ("match", Schema.enumeration(["all", "any"])), ("conditions", Schema.array(Schema.ref("WorkflowCondition"))),
            ("then", Schema.string), ("else", Schema.string),
            ("mode", Schema.enumeration(AssignMode.allCases.map(\.rawValue))), ("userId", Schema.integer), ("userIds", Schema.array(Schema.integer)),
            ("onlineOnly", Schema.boolean),
            ("text", Schema.string),
            ("template", Schema.object([("name", Schema.string), ("language", Schema.string), ("parameters", Schema.array(Schema.string))],
                                       required: ["name", "language"])),
            ("answer", Schema.enumeration(["rating", "text"])), ("retryText", Schema.string),
            ("tag", Schema.string), ("field", Schema.string), ("value", Schema.string),
            ("method", Schema.enumeration(WorkflowValidation.httpMethods)), ("url", Schema.string), ("headers", Schema.map(Schema.string)),
            ("body", ["type": "string", "description": "JSON text; {{variables}} are JSON-escaped"]),
            ("responseFields", ["type": "object", "additionalProperties": Schema.string, "description": "contact field → dotted path in the JSON response"]),
            ("seconds", ["type": "number"]), ("target", Schema.string),
        ], required: ["id", "type"])),
        ("WorkflowInput", Schema.object([
            ("name", Schema.string), ("trigger", Schema.enumeration(WorkflowTrigger.allCases.map(\.rawValue))),
            ("triggerFields", Schema.array(Schema.string)), ("triggerTags", Schema.array(Schema.string)), ("oncePerContact", Schema.boolean),
            ("steps", Schema.array(Schema.ref("WorkflowStep"))), ("enabled", Schema.boolean),
        ], required: ["name", "trigger", "oncePerContact", "steps"])),
        ("WorkflowPatch", Schema.object([
            ("name", Schema.string), ("trigger", Schema.enumeration(WorkflowTrigger.allCases.map(\.rawValue))),
            ("triggerFields", Schema.array(Schema.string)), ("triggerTags", Schema.array(Schema.string)), ("oncePerContact", Schema.boolean),
            ("steps", Schema.array(Schema.ref("WorkflowStep"))), ("enabled", Schema.boolean),
        ])),
        ("Workflow", Schema.object([
            ("id", Schema.integer), ("name", Schema.string), ("trigger", Schema.enumeration(WorkflowTrigger.allCases.map(\.rawValue))),
            ("triggerFields", Schema.array(Schema.string)), ("triggerTags", Schema.array(Schema.string)), ("oncePerContact", Schema.boolean),
            ("steps", Schema.array(Schema.ref("WorkflowStep"))), ("enabled", Schema.boolean), ("template", Schema.nullableString),
            ("webhookUrl", Schema.nullableString), ("webhookSecret", ["type": ["string", "null"], "description": "only when created"]),
            ("createdAt", Schema.dateTime), ("updatedAt", Schema.dateTime),
        ], required: ["id", "name", "trigger", "oncePerContact", "steps", "enabled", "createdAt", "updatedAt"])),
        ("WorkflowPage", Schema.page(of: "Workflow")),
        ("WorkflowFromTemplate", Schema.object([
            ("template", Schema.enumeration(WorkflowTemplateKind.allCases.map(\.rawValue))),
            ("options", Schema.object([
                ("userIds", Schema.array(Schema.integer)), ("returningUserIds", Schema.array(Schema.integer)), ("onlineOnly", Schema.boolean),
                ("tag", Schema.string), ("crmUrl", Schema.string), ("postUrl", Schema.string), ("field", Schema.string),
            ])),
            ("enabled", Schema.boolean),
        ], required: ["template"])),
        ("WorkflowTemplateInfo", Schema.object([("key", Schema.string), ("title", Schema.string), ("summary", Schema.string)],
                                               required: ["key", "title", "summary"])),
        ("WorkflowTemplatePage", Schema.page(of: "WorkflowTemplateInfo")),
        ("WorkflowRunStep", Schema.object([
            ("id", Schema.integer), ("stepId", Schema.string), ("stepType", Schema.string),
            ("outcome", ["type": "string", "description": "succeeded, failed, waiting, true/false (branch), timed_out or invalid (question)"]),
            ("input", Schema.nullableString), ("detail", Schema.nullableString), ("createdAt", Schema.dateTime),
        ], required: ["id", "stepId", "stepType", "outcome", "createdAt"])),
        ("WorkflowRun", Schema.object([
            ("id", Schema.integer), ("workflowId", Schema.integer), ("contactId", Schema.nullableInteger),
            ("conversationId", Schema.nullableInteger), ("eventId", Schema.nullableInteger),
            ("status", Schema.enumeration(["running", "waiting", "completed", "failed"])), ("currentStep", Schema.nullableString),
            ("results", Schema.map(Schema.object([("outcome", Schema.string), ("values", Schema.map(Schema.string))]))),
            ("steps", Schema.array(Schema.ref("WorkflowRunStep"))), ("createdAt", Schema.dateTime), ("finishedAt", Schema.nullableDateTime),
        ], required: ["id", "workflowId", "status", "results", "steps", "createdAt"])),
        ("WorkflowRunPage", Schema.page(of: "WorkflowRun")),
        ("WorkflowRunStarted", Schema.object([("runId", Schema.integer)], required: ["runId"])),
        ("ManualRunRequest", Schema.object([("contactId", Schema.integer)], required: ["contactId"])),
        ("WorkflowHookRequest", ["type": "object", "description": "contactId or email names the contact; top-level values become {{trigger.<key>}}",
                                 "properties": ["contactId": Schema.integer, "email": Schema.string]]),
        ("CreateWebhookSubscription", Schema.object([
            ("url", Schema.string), ("events", Schema.array(Schema.enumeration(WebhookSubscriptionsController.eventKinds + ["*"]))),
        ], required: ["url", "events"])),
        ("WebhookSubscription", Schema.object([
            ("id", Schema.integer), ("url", Schema.string), ("events", Schema.array(Schema.string)), ("enabled", Schema.boolean),
            ("createdAt", Schema.dateTime),
            ("secret", ["type": ["string", "null"], "description": "signing secret, only when created; X-Parley-Signature: t=<unix>,v1=<hex HMAC-SHA256 of \"<t>.<body>\">"]),
        ], required: ["id", "url", "events", "enabled", "createdAt"])),
        ("WebhookSubscriptionPage", Schema.page(of: "WebhookSubscription")),
        ("WebhookDelivery", Schema.object([
            ("id", Schema.integer), ("subscriptionId", Schema.integer), ("eventId", Schema.integer), ("eventType", Schema.string),
            ("status", Schema.enumeration(["pending", "delivered", "failed"])), ("attempts", Schema.integer),
            ("responseCode", Schema.nullableInteger), ("lastError", Schema.nullableString), ("nextAttemptAt", Schema.nullableDateTime),
            ("createdAt", Schema.dateTime), ("deliveredAt", Schema.nullableDateTime),
        ], required: ["id", "subscriptionId", "eventId", "eventType", "status", "attempts", "createdAt"])),
        ("WebhookDeliveryPage", Schema.page(of: "WebhookDelivery")),
    ]
}
