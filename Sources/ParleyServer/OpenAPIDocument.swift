import Foundation
import Hummingbird
import ParleyCore

/// Builds `/openapi.json` from the routes as registered (``APIRoutes``) and the schemas below.
enum OpenAPIDocument {
    static func build(routes: [(method: HTTPRequest.Method, path: String, doc: RouteDoc)], version: String) -> JSONValue {
        var paths: [(String, [(String, JSONValue)])] = []
        for route in routes {
            let operation = operationObject(method: route.method, path: route.path, doc: route.doc)
            if let index = paths.firstIndex(where: { $0.0 == route.path }) {
                paths[index].1.append((route.method.rawValue.lowercased(), operation))
            } else {
                paths.append((route.path, [(route.method.rawValue.lowercased(), operation)]))
            }
        }
        return [
            "openapi": "3.1.0",
            "info": ["title": "Parley API", "version": .string(version),
                     "description": "Omnichannel customer-messaging inbox. Errors are {\"error\":{\"code\",\"message\",\"field\"}}; lists are {\"items\",\"nextCursor\"}."],
            "paths": .object(paths.map { ($0.0, .object($0.1)) }),
            "components": [
                "securitySchemes": [
                    "bearer": ["type": "http", "scheme": "bearer"],
                    // The web inbox's session; state-changing requests also send X-CSRF-Token.
                    "session": ["type": "apiKey", "in": "cookie", "name": .string(SessionCookie.name)],
                ],
                "schemas": .object(schemas + realtimeSchemas + webchatSchemas + workflowSchemas + attachmentSchemas + reachSchemas),
            ],
        ]
    }

    private static func operationObject(method: HTTPRequest.Method, path: String, doc: RouteDoc) -> JSONValue {
        var pairs: [(String, JSONValue)] = [
            ("summary", .string(doc.summary)),
            ("tags", [.string(doc.tag)]),
            ("operationId", .string(operationId(method: method, path: path))),
        ]
        var parameters: [JSONValue] = path.split(separator: "/").compactMap { segment in
            guard segment.hasPrefix("{"), segment.hasSuffix("}") else { return nil }
            let name = String(segment.dropFirst().dropLast())
            let schema = name.hasSuffix("Id") || name == "id" ? Schema.integer : Schema.string
            return ["name": .string(name), "in": "path", "required": true, "schema": schema]
        }
        parameters += doc.query.map { ["name": .string($0.name), "in": "query", "required": false, "schema": $0.schema, "description": .string($0.description)] }
        if !parameters.isEmpty { pairs.append(("parameters", .array(parameters))) }
        if doc.authenticated {
            pairs.append(("security", [["bearer": []], ["session": []]]))
        } else {
            pairs.append(("security", []))
        }
        if let mediaType = doc.bodyMediaType {
            pairs.append(("requestBody", ["required": true, "content": [.init(mediaType): ["schema": ["type": "string"]]]]))
        } else if let body = doc.body {
            pairs.append(("requestBody", ["required": true, "content": ["application/json": ["schema": Schema.ref(body)]]]))
        }
        var responses: [(String, JSONValue)] = []
        for status in [doc.status] + (doc.alternateStatus.map { [$0] } ?? []) {
            if let response = doc.response {
                let schema: JSONValue = doc.responseMediaType == "application/json" ? Schema.ref(response) : ["type": "string"]
                responses.append((String(status), ["description": "success", "content": [.init(doc.responseMediaType): ["schema": schema]]]))
            } else {
                responses.append((String(status), ["description": "success"]))
            }
        }
        var errorStatuses: [Int] = []
        if doc.body != nil || doc.bodyMediaType != nil || !doc.query.isEmpty { errorStatuses.append(400) }
        if doc.authenticated { errorStatuses.append(401) }
        errorStatuses += doc.errors
        for status in Set(errorStatuses).sorted() {
            responses.append((String(status), ["description": "error", "content": ["application/json": ["schema": Schema.ref("Error")]]]))
        }
        pairs.append(("responses", .object(responses)))
        return .object(pairs)
    }

    private static func operationId(method: HTTPRequest.Method, path: String) -> String {
        let words = path.split(separator: "/").filter { $0 != "api" && $0 != "v1" }.map { segment -> String in
            let clean = segment.replacingOccurrences(of: "{", with: "by_").replacingOccurrences(of: "}", with: "")
            return clean.replacingOccurrences(of: ".", with: "_").replacingOccurrences(of: "-", with: "_")
        }
        return ([method.rawValue.lowercased()] + words).joined(separator: "_")
    }

    static let schemas: [(String, JSONValue)] = [
        ("Error", Schema.object([
            ("error", Schema.object([("code", Schema.string), ("message", Schema.string), ("field", Schema.nullableString)], required: ["code", "message"])),
        ], required: ["error"])),
        ("OpenAPIDocument", ["type": "object", "description": "an OpenAPI 3.1 document"]),
        ("Health", Schema.object([("status", Schema.string), ("database", Schema.string)], required: ["status", "database"])),
        ("Readiness", Schema.object([
            ("status", Schema.enumeration(["ready", "unavailable"])), ("database", Schema.enumeration(["ok", "unreachable"])),
            ("schema", Schema.enumeration(["current", "pending", "newer", "unknown"])),
        ], required: ["status", "database", "schema"])),
        ("LoginRequest", Schema.object([("email", Schema.string), ("password", Schema.string)], required: ["email", "password"])),
        ("LoginResponse", Schema.object([("token", Schema.string), ("expiresAt", Schema.nullableDateTime), ("user", Schema.ref("User"))],
                                        required: ["token", "user"])),
        ("Me", Schema.object([("user", Schema.ref("User")), ("workspace", Schema.object([("id", Schema.integer), ("name", Schema.string)]))],
                             required: ["user", "workspace"])),
        ("User", Schema.object([
            ("id", Schema.integer), ("workspaceId", Schema.integer), ("email", Schema.string), ("name", Schema.string),
            ("role", Schema.enumeration(["owner", "manager", "agent"])), ("createdAt", Schema.dateTime), ("disabled", Schema.boolean),
        ], required: ["id", "workspaceId", "email", "name", "role", "createdAt", "disabled"])),
        ("UserPage", Schema.page(of: "User")),
        ("CreateUserRequest", Schema.object([
            ("email", Schema.string), ("name", Schema.string), ("password", ["type": "string", "minLength": 8]),
            ("role", Schema.enumeration(["owner", "manager", "agent"])),
        ], required: ["email", "name", "password", "role"])),
        ("Token", Schema.object([
            ("id", Schema.integer), ("userId", Schema.integer), ("kind", Schema.enumeration(["session", "api"])), ("name", Schema.string),
            ("prefix", Schema.string), ("createdAt", Schema.dateTime), ("lastUsedAt", Schema.nullableDateTime), ("expiresAt", Schema.nullableDateTime),
        ], required: ["id", "userId", "kind", "name", "prefix", "createdAt"])),
        ("TokenPage", Schema.page(of: "Token")),
        ("CreateTokenRequest", Schema.object([("name", Schema.string), ("expiresInDays", Schema.nullableInteger)], required: ["name"])),
        ("CreatedToken", Schema.object([("token", Schema.string), ("info", Schema.ref("Token"))], required: ["token", "info"])),
        ("WorkspaceSettings", Schema.object([
            ("closingNoteMode", Schema.enumeration(["disabled", "optional", "category_required", "both_required"])),
            ("closingCategories", Schema.array(Schema.string)),
            ("closingLogic", Schema.enumeration(["keep", "unassign"])),
            ("agentsSeeAll", Schema.boolean),
            ("channelPreference", Schema.array(Schema.enumeration(channelKinds))),
        ], required: ["closingNoteMode", "closingCategories", "closingLogic", "agentsSeeAll", "channelPreference"])),
        ("WorkspaceSettingsPatch", Schema.object([
            ("closingNoteMode", Schema.enumeration(["disabled", "optional", "category_required", "both_required"])),
            ("closingCategories", Schema.array(Schema.string)),
            ("closingLogic", Schema.enumeration(["keep", "unassign"])),
            ("agentsSeeAll", Schema.boolean),
            ("channelPreference", Schema.array(Schema.enumeration(channelKinds))),
        ])),
        ("Channel", Schema.object([
            ("id", Schema.integer), ("type", Schema.enumeration(channelKinds)), ("name", Schema.string), ("apiBaseUrl", Schema.nullableString),
            ("credentialKeys", Schema.array(Schema.string)), ("webhookUrl", Schema.string), ("viberMonth", Schema.nullableString),
            ("viberMonthCount", Schema.integer), ("commercialTermsAccepted", Schema.boolean), ("createdAt", Schema.dateTime), ("updatedAt", Schema.dateTime),
            ("webchat", ["oneOf": [Schema.ref("WebchatSettings"), ["type": "null"]]]),
        ], required: ["id", "type", "name", "credentialKeys", "webhookUrl", "viberMonthCount", "commercialTermsAccepted", "createdAt", "updatedAt"])),
        ("ChannelPage", Schema.page(of: "Channel")),
        ("CreateChannelRequest", Schema.object([
            ("type", Schema.enumeration(channelKinds)), ("name", Schema.string), ("credentials", Schema.map(Schema.string)), ("apiBaseUrl", Schema.nullableString),
            ("verifyCredentials", ["type": "boolean", "description": "check the credentials with the provider and register the webhook (default true)"]),
            ("webchat", Schema.ref("WebchatSettingsInput")),
        ], required: ["type", "name"])),
        ("UpdateChannelRequest", Schema.object([
            ("name", Schema.string), ("credentials", Schema.map(Schema.string)), ("apiBaseUrl", Schema.nullableString), ("commercialTermsAccepted", Schema.boolean),
            ("webchat", Schema.ref("WebchatSettingsInput")),
            ("viberMonthCount", ["type": "integer", "minimum": 0, "maximum": 10_000_000,
                                 "description": "Viber only, owners only: this UTC month's chatbot-initiated count, corrected to match Viber's dashboard (recorded as a channel.updated event naming who changed it)"]),
        ])),
        ("ContactInput", Schema.object([
            ("firstName", ["type": ["string", "null"], "description": "null or absent: unchanged"]), ("lastName", ["type": ["string", "null"], "description": "null or absent: unchanged"]),
            ("email", Schema.nullableString), ("phone", ["type": ["string", "null"], "description": "E.164, e.g. +14155551234"]),
            ("language", Schema.nullableString), ("country", ["type": ["string", "null"], "description": "ISO 3166 alpha-2"]),
            ("tags", ["type": ["array", "null"], "items": Schema.string, "description": "replaces the set; null or absent: unchanged"]),
            ("customFields", ["type": ["object", "null"], "description": "values typed by the field definitions; a value of null removes that field; null or absent: unchanged"]),
        ])),
        ("Identity", Schema.object([
            ("id", Schema.integer), ("channelId", Schema.integer), ("channelType", Schema.enumeration(channelKinds)), ("externalId", Schema.string),
            ("displayName", Schema.nullableString), ("lastInboundAt", Schema.nullableDateTime), ("outboundSinceInbound", Schema.integer),
        ], required: ["id", "channelId", "channelType", "externalId", "outboundSinceInbound"])),
        ("IdentityInput", Schema.object([("channelId", Schema.integer), ("externalId", Schema.string), ("displayName", Schema.nullableString)],
                                        required: ["channelId", "externalId"])),
        ("Contact", Schema.object([
            ("id", Schema.integer), ("name", Schema.string), ("firstName", Schema.string), ("lastName", Schema.string), ("email", Schema.nullableString),
            ("phone", Schema.nullableString), ("language", Schema.nullableString), ("country", Schema.nullableString), ("tags", Schema.array(Schema.string)),
            ("customFields", ["type": "object"]), ("identities", Schema.array(Schema.ref("Identity"))), ("createdAt", Schema.dateTime), ("updatedAt", Schema.dateTime),
        ], required: ["id", "name", "firstName", "lastName", "tags", "customFields", "identities", "createdAt", "updatedAt"])),
        ("ContactPage", Schema.page(of: "Contact")),
        ("CustomField", Schema.object([
            ("key", Schema.string), ("label", Schema.string), ("type", Schema.enumeration(CustomFieldType.allCases.map(\.rawValue))), ("options", Schema.array(Schema.string)),
        ], required: ["key", "label", "type"])),
        ("CustomFieldPage", Schema.page(of: "CustomField")),
        ("WindowState", Schema.object([
            ("status", Schema.enumeration(["none", "open", "closed"])), ("closesAt", Schema.nullableDateTime),
            ("closedBy", ["type": ["string", "null"], "enum": ["time", "message_limit", .null],
                          "description": "why a closed window is closed: its time ran out, or (WeChat) its 20 messages were used"]),
        ], required: ["status"])),
        ("Conversation", Schema.object([
            ("id", Schema.integer), ("contactId", Schema.integer), ("status", Schema.enumeration(["open", "closed"])), ("assigneeId", Schema.nullableInteger),
            ("channelId", Schema.nullableInteger), ("openedAt", Schema.dateTime), ("openedByUserId", Schema.nullableInteger), ("closedAt", Schema.nullableDateTime),
            ("closedByUserId", Schema.nullableInteger), ("closingCategory", Schema.nullableString), ("closingSummary", Schema.nullableString),
            ("lastActivityAt", Schema.dateTime), ("waitingSince", Schema.nullableDateTime), ("unreadCount", Schema.integer),
        ], required: ["id", "contactId", "status", "openedAt", "lastActivityAt", "unreadCount"])),
        ("InboxRow", Schema.object([
            ("conversationId", Schema.integer),
            ("contact", Schema.object([("id", Schema.integer), ("name", Schema.string)])),
            ("channel", Schema.object([("id", Schema.integer), ("type", Schema.enumeration(channelKinds)), ("name", Schema.string)])),
            ("lastMessage", Schema.object([("preview", Schema.string), ("at", Schema.nullableDateTime)])),
            ("unreadCount", Schema.integer),
            ("assignee", Schema.object([("id", Schema.integer), ("name", Schema.string)])),
            ("status", Schema.enumeration(["open", "closed"])), ("window", Schema.ref("WindowState")),
            ("lastActivityAt", Schema.dateTime), ("waitingSince", Schema.nullableDateTime), ("openedAt", Schema.dateTime), ("closedAt", Schema.nullableDateTime),
        ], required: ["conversationId", "contact", "unreadCount", "status", "window", "lastActivityAt", "openedAt"])),
        ("InboxPage", Schema.page(of: "InboxRow")),
        ("CloseRequest", Schema.object([("category", Schema.nullableString), ("summary", Schema.nullableString)])),
        ("AssigneeRequest", Schema.object([("userId", Schema.nullableInteger)], required: ["userId"])),
        ("Message", Schema.object([
            ("id", Schema.integer), ("contactId", Schema.integer), ("conversationId", Schema.nullableInteger), ("channelId", Schema.integer),
            ("identityId", Schema.integer), ("direction", Schema.enumeration(["inbound", "outbound"])),
            ("senderKind", Schema.enumeration(["contact", "user", "workflow", "system"])), ("senderUserId", Schema.nullableInteger),
            ("contentKind", ["type": "string", "description": "outbound: text, template or tagged; inbound: text or the kind the contact sent (button, location, sticker, …)"]),
            ("text", ["type": ["string", "null"], "description": "the readable content, or a placeholder such as [sticker]; null once the contact deleted it"]),
            ("details", ["type": ["object", "null"], "additionalProperties": ["type": "string"], "description": "inbound content's facts: a button's payload, coordinates, a media id"]),
            ("editedAt", Schema.nullableDateTime), ("deletedAt", Schema.nullableDateTime), ("status", Schema.enumeration(DeliveryStatus.allCases.map(\.rawValue))),
            ("queuedAt", ["type": ["string", "null"], "format": "date-time", "description": "a queued message: when its author wrote it"]),
            ("queueExpiresAt", ["type": ["string", "null"], "format": "date-time", "description": "a queued message: when it is given up unless the contact writes first"]),
            ("failureReason", Schema.nullableString), ("providerErrorCode", Schema.nullableString), ("providerErrorText", Schema.nullableString),
            ("providerMessageId", Schema.nullableString), ("providerTimestamp", Schema.nullableDateTime), ("createdAt", Schema.dateTime), ("updatedAt", Schema.dateTime),
            ("attachments", ["type": ["array", "null"], "items": Schema.ref("Attachment"), "description": "files sent with the message"]),
        ], required: ["id", "contactId", "channelId", "direction", "senderKind", "contentKind", "status", "createdAt"])),
        ("TimelineItem", Schema.object([
            ("type", Schema.enumeration(["message", "activity"])), ("at", Schema.dateTime), ("message", Schema.ref("Message")),
            ("activity", Schema.object([
                ("id", Schema.integer), ("conversationId", Schema.integer), ("kind", Schema.enumeration(["opened", "closed", "assigned"])),
                ("actor", Schema.object([("id", Schema.integer), ("name", Schema.string)])), ("details", ["type": "object"]),
            ])),
        ], required: ["type", "at"])),
        ("TimelinePage", Schema.page(of: "TimelineItem")),
        ("ComposerState", Schema.object([
            ("channelType", Schema.enumeration(channelKinds)), ("window", Schema.ref("WindowState")), ("humanAgentUntil", Schema.nullableDateTime),
            ("allowed", Schema.array(Schema.enumeration(["free_text", "template", "tagged_message", "chatbot_initiated", "none"]))),
            ("tags", Schema.array(Schema.enumeration(MessageTag.allCases.map(\.rawValue)))), ("viberQuotaLeft", Schema.nullableInteger),
            ("weChatMessagesLeft", Schema.nullableInteger), ("sendsUndelivered", Schema.boolean), ("reason", Schema.string),
            ("attachments", Schema.array(Schema.ref("AttachmentRule"))),
            ("canQueue", ["type": "boolean", "description": "free text cannot go now but may be queued (deliver: when_contact_writes)"]),
            ("alternatives", ["type": "array", "items": Schema.ref("ReachOption"), "description": "the contact's other channels and what each allows now, the best first"]),
        ], required: ["channelType", "window", "allowed", "tags", "sendsUndelivered", "reason", "canQueue", "alternatives"])),
        ("SendMessageRequest", Schema.object([
            ("channelId", Schema.integer), ("text", Schema.string), ("tag", Schema.enumeration(MessageTag.allCases.map(\.rawValue))),
            ("subject", ["type": "string", "description": "email channels: the subject (default: the thread's, as Re: …)"]),
            ("attachmentIds", ["type": "array", "items": Schema.integer, "maxItems": 1, "description": "one file uploaded with POST /api/v1/attachments by the sender; the text is its caption"]),
            ("template", Schema.object([("name", Schema.string), ("language", Schema.string), ("parameters", Schema.array(Schema.string))], required: ["name", "language"])),
            ("deliver", ["type": "string", "enum": ["now", "when_contact_writes"], "description": "when_contact_writes: if the window forbids sending now, the message is queued (status scheduled) and sent when the contact next writes"]),
            ("queueExpiresAt", ["type": "string", "format": "date-time", "description": "a queued message is given up at this time (default: in 30 days; at most a year)"]),
        ], required: ["channelId"])),
        ("SendMessageResponse", Schema.object([
            ("message", Schema.ref("Message")),
            ("conversation", ["oneOf": [Schema.ref("Conversation"), ["type": "null"]], "description": "absent for a message queued to a contact without a conversation"]),
            ("queued", ["type": "boolean", "description": "true when the message waits for the contact to write (status scheduled)"]),
        ], required: ["message", "queued"])),
        ("Template", Schema.object([
            ("id", Schema.integer), ("channelId", Schema.integer), ("name", Schema.string), ("language", Schema.string),
            ("category", Schema.enumeration(TemplateCategory.allCases.map(\.rawValue))), ("status", Schema.enumeration(TemplateStatus.allCases.map(\.rawValue))),
            ("body", Schema.string), ("parameterCount", Schema.integer), ("updatedAt", Schema.dateTime),
        ], required: ["id", "channelId", "name", "language", "category", "status", "body", "parameterCount", "updatedAt"])),
        ("TemplatePage", Schema.page(of: "Template")),
        ("TemplateInput", Schema.object([
            ("name", Schema.string), ("language", Schema.string), ("category", Schema.enumeration(TemplateCategory.allCases.map(\.rawValue))),
            ("body", Schema.string), ("status", Schema.enumeration(TemplateStatus.allCases.map(\.rawValue))),
        ], required: ["name", "language", "category", "body"])),
        ("ImportReport", Schema.object([
            ("created", Schema.integer), ("updated", Schema.integer), ("rejectedCount", Schema.integer),
            ("rejected", Schema.array(Schema.object([("line", Schema.integer), ("reason", Schema.string)]))),
        ], required: ["created", "updated", "rejectedCount", "rejected"])),
    ]

    private static var channelKinds: [String] { ["telegram", "line", "webchat", "sms", "email", "whatsapp", "messenger", "instagram", "viber", "wechat"] }
}
