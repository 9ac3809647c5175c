import Foundation

/// What starts a workflow.
public enum WorkflowTrigger: String, Codable, Sendable, CaseIterable {
    case conversationOpened = "conversation_opened"
    case conversationClosed = "conversation_closed"
    case contactTagUpdated = "contact_tag_updated"
    case contactFieldUpdated = "contact_field_updated"
    case incomingWebhook = "incoming_webhook"
    case manual
}

/// The kinds of step a workflow is made of.
public enum WorkflowStepType: String, Codable, Sendable, CaseIterable {
    case branch
    case assign
    case unassign
    case sendMessage = "send_message"
    case askQuestion = "ask_question"
    case addTag = "add_tag"
    case removeTag = "remove_tag"
    case updateField = "update_field"
    case httpRequest = "http_request"
    case wait
    case close
    case jump
}

/// How an assign step picks the assignee.
public enum AssignMode: String, Codable, Sendable, CaseIterable {
    case user
    case roundRobin = "round_robin"
    case leastOpen = "least_open"
}

/// One test of a branch. Which properties matter depends on `kind`:
/// - `tag`: the contact has `tag`;
/// - `field`: contact field `field` (`firstName`, `email`, … or a custom field key) compared by `op` with `value`;
/// - `channel`: the conversation's channel kind is `value`;
/// - `returning`: the contact had an earlier conversation (negate for new contacts);
/// - `time`: now, in `timeZone` (default UTC), is between `from` and `to` (`HH:MM`) on one of `days` (1 = Monday);
/// - `step`: step `step` ended with `outcome` (`succeeded`, `failed`, `timed_out`), or its value `field` compares with `value`.
public struct WorkflowCondition: Codable, Sendable, Equatable {
    public enum Kind: String, Codable, Sendable, CaseIterable {
        case tag, field, channel, returning, time, step
    }

    public enum Operator: String, Codable, Sendable, CaseIterable {
        case equals, notEquals = "not_equals", contains, exists, missing
        case greaterThan = "greater_than", lessThan = "less_than"
    }

    public var kind: Kind
    public var negate: Bool?
    public var tag: String?
    public var field: String?
    public var op: Operator?
    public var value: String?
    public var from: String?
    public var to: String?
    public var days: [Int]?
    public var timeZone: String?
    public var step: String?
    public var outcome: String?

    public init(kind: Kind, negate: Bool? = nil, tag: String? = nil, field: String? = nil, op: Operator? = nil, value: String? = nil,
                from: String? = nil, to: String? = nil, days: [Int]? = nil, timeZone: String? = nil, step: String? = nil, outcome: String? = nil) {
        self.kind = kind
        self.negate = negate
        self.tag = tag
        self.field = field
        self.op = op
        self.value = value
        self.from = from
        self.to = to
        self.days = days
        self.timeZone = timeZone
        self.step = step
        self.outcome = outcome
    }
}

/// A WhatsApp template a send step uses outside the 24-hour window.
public struct WorkflowTemplateMessage: Codable, Sendable, Equatable {
    public var name: String
    public var language: String
    public var parameters: [String]?

    public init(name: String, language: String, parameters: [String]? = nil) {
        self.name = name
        self.language = language
        self.parameters = parameters
    }
}

/// One step. A flat record: each type reads the properties it documents and validation refuses
/// a step missing what its type needs. Steps run in order; `next`, a branch's `then`/`else`
/// and `jump`'s `target` name other steps by `id`.
public struct WorkflowStep: Codable, Sendable, Equatable {
    public var id: String
    public var type: WorkflowStepType
    public var next: String?
    /// When the step fails, record it and go on instead of ending the run (a CRM lookup that
    /// may be down); a later branch can test the step's outcome.
    public var continueOnFailure: Bool?

    // branch
    public var match: String?
    public var conditions: [WorkflowCondition]?
    public var then: String?
    public var `else`: String?

    // assign
    public var mode: AssignMode?
    public var userId: Int64?
    public var userIds: [Int64]?
    public var onlineOnly: Bool?

    // send_message, ask_question
    public var text: String?
    public var template: WorkflowTemplateMessage?
    /// ask_question: `rating` (1 to 5) or `text`.
    public var answer: String?
    public var retryText: String?

    // add_tag, remove_tag, update_field, ask_question (where the answer goes)
    public var tag: String?
    public var field: String?
    public var value: String?

    // http_request
    public var method: String?
    public var url: String?
    public var headers: [String: String]?
    public var body: String?
    /// Contact field ← dotted path in the JSON response.
    public var responseFields: [String: String]?

    // wait, ask_question, http_request
    public var seconds: Double?

    // jump
    public var target: String?

    public init(id: String, type: WorkflowStepType) {
        self.id = id
        self.type = type
    }
}

/// What a workflow is, as created and edited.
public struct WorkflowDefinition: Codable, Sendable, Equatable {
    public var name: String
    public var trigger: WorkflowTrigger
    /// For `contact_field_updated`: only changes of these fields (any field when empty).
    public var triggerFields: [String]?
    /// For `contact_tag_updated`: only when one of these tags was added (any change when empty).
    public var triggerTags: [String]?
    public var oncePerContact: Bool
    public var steps: [WorkflowStep]

    public init(name: String, trigger: WorkflowTrigger, triggerFields: [String]? = nil, triggerTags: [String]? = nil,
                oncePerContact: Bool = false, steps: [WorkflowStep]) {
        self.name = name
        self.trigger = trigger
        self.triggerFields = triggerFields
        self.triggerTags = triggerTags
        self.oncePerContact = oncePerContact
        self.steps = steps
    }
}
