import Foundation

/// Why a workflow cannot be saved: the step (by id, when one is at fault), the property, and
/// what is wrong with it.
public struct WorkflowProblem: Error, Equatable, Sendable, CustomStringConvertible {
    public let step: String?
    public let field: String
    public let message: String

    public init(step: String?, field: String, message: String) {
        self.step = step
        self.field = field
        self.message = message
    }

    public var description: String {
        step.map { "step '\($0)': \(message)" } ?? message
    }
}

/// Checks a workflow before it is stored, so the engine only ever runs well-formed steps.
public enum WorkflowValidation {
    public static let maxSteps = 100
    public static let maxWait: Double = 30 * 24 * 3600
    public static let standardFields = ["firstName", "lastName", "email", "phone", "language", "country"]
    public static let httpMethods = ["GET", "POST", "PUT", "PATCH", "DELETE"]
    /// The target that ends a run (`next`, `then`, `else`, `target`).
    public static let endTarget = "end"

    /// Checks the raw JSON's steps before decoding, so an unknown step type or a step without an
    /// id is named instead of reported as a decoding failure.
    public static func checkRaw(_ data: Data) -> WorkflowProblem? {
        guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { return nil }
        guard let steps = object["steps"] as? [Any] else { return nil }
        for (index, raw) in steps.enumerated() {
            let field = "steps[\(index)]"
            guard let step = raw as? [String: Any] else { return WorkflowProblem(step: nil, field: field, message: "\(field) must be an object") }
            let id = step["id"] as? String
            guard let type = step["type"] as? String else {
                return WorkflowProblem(step: id, field: "\(field).type", message: "a step needs a type")
            }
            if WorkflowStepType(rawValue: type) == nil {
                let known = WorkflowStepType.allCases.map(\.rawValue).joined(separator: ", ")
                return WorkflowProblem(step: id ?? field, field: "\(field).type", message: "unknown step type '\(type)' (one of \(known))")
            }
        }
        return nil
    }

    /// The first problem of a decoded workflow, or nil when it may be stored.
    public static func problem(in workflow: WorkflowDefinition) -> WorkflowProblem? {
        let name = workflow.name.trimmingCharacters(in: .whitespacesAndNewlines)
        guard (1...200).contains(name.count) else { return WorkflowProblem(step: nil, field: "name", message: "name must be 1 to 200 characters") }
        guard (1...maxSteps).contains(workflow.steps.count) else {
            return WorkflowProblem(step: nil, field: "steps", message: "a workflow has 1 to \(maxSteps) steps")
        }
        for key in workflow.triggerFields ?? [] where !isField(key) {
            return WorkflowProblem(step: nil, field: "triggerFields", message: "'\(key)' is not a contact field")
        }
        var ids = Set<String>()
        for (index, step) in workflow.steps.enumerated() {
            guard isValidId(step.id) else {
                return WorkflowProblem(step: step.id.isEmpty ? nil : step.id, field: "steps[\(index)].id",
                                       message: "step ids are 1 to 50 letters, digits, '-' or '_'")
            }
            guard ids.insert(step.id).inserted else {
                return WorkflowProblem(step: step.id, field: "steps[\(index)].id", message: "the id is used by another step")
            }
        }
        for (index, step) in workflow.steps.enumerated() {
            if let problem = problem(in: step, path: "steps[\(index)]", ids: ids) { return problem }
        }
        return nil
    }

    static func problem(in step: WorkflowStep, path: String, ids: Set<String>) -> WorkflowProblem? {
        func fail(_ field: String, _ message: String) -> WorkflowProblem {
            WorkflowProblem(step: step.id, field: "\(path).\(field)", message: message)
        }
        for (field, target) in [("next", step.next), ("then", step.then), ("else", step.else), ("target", step.target)] {
            if let target, target != endTarget, !ids.contains(target) { return fail(field, "jumps to a missing step '\(target)'") }
        }
        switch step.type {
        case .branch:
            guard let conditions = step.conditions, !conditions.isEmpty else { return fail("conditions", "a branch needs at least one condition") }
            if let match = step.match, match != "all", match != "any" { return fail("match", "match is 'all' or 'any'") }
            for (index, condition) in conditions.enumerated() {
                if let message = problem(in: condition, ids: ids) { return fail("conditions[\(index)]", message) }
            }
        case .assign:
            switch step.mode {
            case nil: return fail("mode", "an assign step needs a mode (user, round_robin, least_open)")
            case .user: if step.userId == nil { return fail("userId", "assigning to a user needs userId") }
            case .roundRobin, .leastOpen:
                guard let users = step.userIds, (1...50).contains(users.count) else { return fail("userIds", "this mode needs 1 to 50 userIds") }
            }
        case .sendMessage:
            if let template = step.template {
                if template.name.isEmpty || template.language.isEmpty { return fail("template", "a template needs a name and a language") }
            } else if !hasText(step.text) {
                return fail("text", "a send step needs text or a template")
            }
        case .askQuestion:
            guard hasText(step.text) else { return fail("text", "a question needs text") }
            if let answer = step.answer, answer != "rating", answer != "text" { return fail("answer", "answer is 'rating' (1 to 5) or 'text'") }
            guard let field = step.field, isField(field) else { return fail("field", "a question needs the contact field that keeps the answer") }
            if let seconds = step.seconds, !(1...maxWait).contains(seconds) { return fail("seconds", "the timeout is 1 second to 30 days") }
        case .addTag, .removeTag:
            guard let tag = step.tag?.trimmingCharacters(in: .whitespaces), (1...ContactRules.maxTagLength).contains(tag.count) else {
                return fail("tag", "a tag step needs a tag of 1 to \(ContactRules.maxTagLength) characters")
            }
        case .updateField:
            guard let field = step.field, isField(field) else { return fail("field", "'\(step.field ?? "")' is not a contact field") }
            if step.value == nil { return fail("value", "an update needs a value (empty clears the field)") }
        case .httpRequest:
            let method = (step.method ?? "POST").uppercased()
            guard httpMethods.contains(method) else { return fail("method", "method is one of \(httpMethods.joined(separator: ", "))") }
            guard let url = step.url, isHTTPURL(url) else { return fail("url", "'\(step.url ?? "")' is not an http or https URL") }
            if let body = step.body, !isJSONWithVariables(body) { return fail("body", "the body is not JSON") }
            if let seconds = step.seconds, !(1...60).contains(seconds) { return fail("seconds", "the timeout is 1 to 60 seconds") }
            for (name, _) in step.headers ?? [:] where name.isEmpty || name.contains(where: { !$0.isASCII || $0 == ":" || $0.isWhitespace }) {
                return fail("headers", "'\(name)' is not a header name")
            }
            for (field, _) in step.responseFields ?? [:] where !isField(field) {
                return fail("responseFields", "'\(field)' is not a contact field")
            }
        case .wait:
            guard let seconds = step.seconds, (1...maxWait).contains(seconds) else { return fail("seconds", "a wait is 1 second to 30 days") }
        case .jump:
            if step.target == nil { return fail("target", "a jump needs a target step") }
        case .unassign, .close:
            break
        }
        return nil
    }

    static func problem(in condition: WorkflowCondition, ids: Set<String>) -> String? {
        switch condition.kind {
        case .tag:
            if !hasText(condition.tag) { return "a tag condition needs a tag" }
        case .field:
            guard let field = condition.field, isField(field) else { return "a field condition needs a contact field" }
            let op = condition.op ?? .equals
            if op != .exists, op != .missing, condition.value == nil { return "the '\(op.rawValue)' test needs a value" }
        case .channel:
            guard let value = condition.value, ChannelKind(rawValue: value) != nil else { return "a channel condition needs a channel kind" }
        case .returning:
            break
        case .time:
            guard let from = condition.from.flatMap(minutes), let to = condition.to.flatMap(minutes) else {
                return "a time condition needs from and to as HH:MM"
            }
            if from == to { return "from and to must differ" }
            if let zone = condition.timeZone, TimeZone(identifier: zone) == nil { return "unknown time zone '\(zone)'" }
            if let days = condition.days, days.isEmpty || days.contains(where: { !(1...7).contains($0) }) { return "days are 1 (Monday) to 7" }
        case .step:
            guard let step = condition.step, ids.contains(step) else { return "a step condition names a missing step '\(condition.step ?? "")'" }
            if condition.outcome == nil, condition.field == nil { return "a step condition needs an outcome or a field" }
        }
        return nil
    }

    /// Minutes after midnight of `HH:MM`.
    public static func minutes(_ text: String) -> Int? {
        let parts = text.split(separator: ":")
        guard parts.count == 2, let hour = Int(parts[0]), let minute = Int(parts[1]), (0...23).contains(hour), (0...59).contains(minute) else { return nil }
        return hour * 60 + minute
    }

    public static func isField(_ key: String) -> Bool {
        standardFields.contains(key) || CustomFieldValidation.isValidKey(key)
    }

    static func isValidId(_ id: String) -> Bool {
        (1...50).contains(id.count) && id.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }
    }

    static func hasText(_ text: String?) -> Bool {
        !(text ?? "").trimmingCharacters(in: .whitespacesAndNewlines).isEmpty
    }

    /// An absolute http(s) URL with a host; variables are allowed in its path and query.
    public static func isHTTPURL(_ text: String) -> Bool {
        let probe = WorkflowVariables.placeholder(in: text, with: "x")
        guard let url = URL(string: probe), let scheme = url.scheme?.lowercased(), scheme == "http" || scheme == "https",
              let host = url.host, !host.isEmpty, !probe.contains(" ") else { return false }
        return true
    }

    /// Whether the body is JSON once its variables are filled in.
    static func isJSONWithVariables(_ body: String) -> Bool {
        // "0" is valid JSON both inside a string and as a bare value.
        let probe = WorkflowVariables.placeholder(in: body, with: "0")
        return (try? JSONSerialization.jsonObject(with: Data(probe.utf8), options: [.fragmentsAllowed])) != nil
    }
}
