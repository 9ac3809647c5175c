import Foundation

/// How a finished step ended, kept on the run for later branches and variables.
public struct WorkflowStepResult: Codable, Sendable, Equatable {
    public var outcome: String
    public var values: [String: String]

    public init(outcome: String, values: [String: String] = [:]) {
        self.outcome = outcome
        self.values = values
    }
}

/// What a branch can test, gathered by the engine when the branch runs.
public struct WorkflowFacts: Sendable {
    public var tags: Set<String>
    /// Standard and custom contact fields as text.
    public var fields: [String: String]
    public var channel: ChannelKind?
    public var returning: Bool
    public var now: Date
    public var steps: [String: WorkflowStepResult]

    public init(tags: Set<String>, fields: [String: String], channel: ChannelKind?, returning: Bool, now: Date, steps: [String: WorkflowStepResult]) {
        self.tags = tags
        self.fields = fields
        self.channel = channel
        self.returning = returning
        self.now = now
        self.steps = steps
    }
}

/// Evaluates branch conditions; pure, so every rule is tested without a database.
public enum WorkflowConditions {
    public static func matches(_ step: WorkflowStep, facts: WorkflowFacts) -> Bool {
        let conditions = step.conditions ?? []
        let results = conditions.map { holds($0, facts: facts) }
        return step.match == "any" ? results.contains(true) : !results.contains(false)
    }

    public static func holds(_ condition: WorkflowCondition, facts: WorkflowFacts) -> Bool {
        let result: Bool
        switch condition.kind {
        case .tag:
            let wanted = (condition.tag ?? "").lowercased()
            result = facts.tags.contains { $0.lowercased() == wanted }
        case .field:
            result = compare(facts.fields[condition.field ?? ""], condition.op ?? .equals, condition.value)
        case .channel:
            result = facts.channel?.rawValue == condition.value
        case .returning:
            result = facts.returning
        case .time:
            result = inWindow(condition, at: facts.now)
        case .step:
            let found = facts.steps[condition.step ?? ""]
            if let outcome = condition.outcome {
                result = found?.outcome == outcome
            } else {
                result = compare(found?.values[condition.field ?? ""], condition.op ?? .equals, condition.value)
            }
        }
        return condition.negate == true ? !result : result
    }

    static func compare(_ actual: String?, _ op: WorkflowCondition.Operator, _ expected: String?) -> Bool {
        let present = actual.map { !$0.isEmpty } ?? false
        switch op {
        case .exists: return present
        case .missing: return !present
        case .equals: return (actual ?? "").caseInsensitiveCompare(expected ?? "") == .orderedSame
        case .notEquals: return (actual ?? "").caseInsensitiveCompare(expected ?? "") != .orderedSame
        case .contains: return (actual ?? "").localizedCaseInsensitiveContains(expected ?? "")
        case .greaterThan, .lessThan:
            guard let left = actual.flatMap(Double.init), let right = expected.flatMap(Double.init) else { return false }
            return op == .greaterThan ? left > right : left < right
        }
    }

    /// Whether `now` falls in the condition's hours (a window past midnight wraps) and days.
    static func inWindow(_ condition: WorkflowCondition, at now: Date) -> Bool {
        guard let from = condition.from.flatMap(WorkflowValidation.minutes), let to = condition.to.flatMap(WorkflowValidation.minutes) else { return false }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = condition.timeZone.flatMap(TimeZone.init(identifier:)) ?? TimeZone(identifier: "UTC") ?? .current
        let parts = calendar.dateComponents([.hour, .minute, .weekday], from: now)
        let minute = (parts.hour ?? 0) * 60 + (parts.minute ?? 0)
        // Calendar weekdays start on Sunday = 1; conditions use Monday = 1.
        let day = ((parts.weekday ?? 1) + 5) % 7 + 1
        if let days = condition.days, !days.contains(day) { return false }
        return from < to ? (from..<to).contains(minute) : (minute >= from || minute < to)
    }
}
