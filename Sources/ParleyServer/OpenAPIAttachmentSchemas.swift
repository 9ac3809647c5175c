import ParleyCore

extension OpenAPIDocument {
    /// Schemas of attachments.
    static let attachmentSchemas: [(String, JSONValue)] = [
        ("Attachment", Schema.object([
            ("id", Schema.integer), ("messageId", Schema.nullableInteger), ("kind", Schema.enumeration(AttachmentKind.allCases.map(\.rawValue))),
            ("status", Schema.enumeration(["pending", "stored", "failed"])),
            ("contentType", ["type": ["string", "null"], "description": "the type the bytes show (sniffed), null until stored"]),
            ("fileName", Schema.string), ("size", Schema.nullableInteger),
            ("failure", ["type": ["string", "null"], "description": "why the file could not be kept (too large, a lying content type, the provider refused)"]),
            ("url", ["type": ["string", "null"], "description": "where an agent reads the file (with their session or token)"]),
        ], required: ["id", "kind", "status", "fileName"])),
        ("AttachmentRule", Schema.object([
            ("kind", Schema.enumeration(AttachmentKind.allCases.map(\.rawValue))), ("maxBytes", Schema.integer),
            ("caption", ["type": "boolean", "description": "whether text may go with a file of this kind"]),
        ], required: ["kind", "maxBytes", "caption"])),
        ("AttachmentDetail", Schema.object([
            ("attachment", Schema.ref("Attachment")),
            ("signedUrl", ["type": ["string", "null"], "description": "a link anyone holding it may open until expiresAt"]),
            ("expiresAt", Schema.nullableDateTime),
        ], required: ["attachment"])),
    ]
}
