import Foundation
import ParleyCore
import Testing

/// Branch conditions and definition checks, without a database.
@Suite("Workflow conditions")
struct WorkflowConditionsTests {
    // Monday 2 March 2026, 10:30 UTC.
    static let monday = Date(timeIntervalSince1970: 1_772_447_400)

    static func facts(tags: Set<String> = [], fields: [String: String] = [:], channel: ChannelKind? = nil, returning: Bool = false,
                      now: Date = monday, steps: [String: WorkflowStepResult] = [:]) -> WorkflowFacts {
        WorkflowFacts(tags: tags, fields: fields, channel: channel, returning: returning, now: now, steps: steps)
    }

    static func branch(_ match: String, _ conditions: [WorkflowCondition]) -> WorkflowStep {
        var step = WorkflowStep(id: "b", type: .branch)
        step.match = match
        step.conditions = conditions
        return step
    }

    @Test func allAndAnyCombineConditions() {
        let vip = WorkflowCondition(kind: .tag, tag: "VIP")
        let telegram = WorkflowCondition(kind: .channel, value: "telegram")
        let facts = Self.facts(tags: ["vip"], channel: .whatsapp)
        #expect(WorkflowConditions.matches(Self.branch("all", [vip, telegram]), facts: facts) == false)
        #expect(WorkflowConditions.matches(Self.branch("any", [vip, telegram]), facts: facts))
        #expect(WorkflowConditions.matches(Self.branch("all", [WorkflowCondition(kind: .returning, negate: true)]), facts: facts))
    }

    @Test func fieldsCompareAsTextOrNumbers() {
        let facts = Self.facts(fields: ["plan": "Gold", "csat": "4"])
        #expect(WorkflowConditions.holds(WorkflowCondition(kind: .field, field: "plan", op: .equals, value: "gold"), facts: facts))
        #expect(WorkflowConditions.holds(WorkflowCondition(kind: .field, field: "csat", op: .lessThan, value: "3"), facts: facts) == false)
        #expect(WorkflowConditions.holds(WorkflowCondition(kind: .field, field: "email", op: .missing), facts: facts))
        #expect(WorkflowConditions.holds(WorkflowCondition(kind: .step, step: "ask", outcome: "succeeded"),
                                         facts: Self.facts(steps: ["ask": WorkflowStepResult(outcome: "timed_out")])) == false)
    }

    @Test func businessHoursFollowTheTimeZoneAndDays() {
        let hours = WorkflowCondition(kind: .time, from: "09:00", to: "17:00", days: [1, 2, 3, 4, 5], timeZone: "UTC")
        #expect(WorkflowConditions.holds(hours, facts: Self.facts()))
        // 10:30 UTC is 19:30 in Tokyo: after hours.
        var tokyo = hours
        tokyo.timeZone = "Asia/Tokyo"
        #expect(WorkflowConditions.holds(tokyo, facts: Self.facts()) == false)
        // Saturday is not a working day.
        #expect(WorkflowConditions.holds(hours, facts: Self.facts(now: Self.monday.addingTimeInterval(5 * 86400))) == false)
        // A night window wraps past midnight.
        let night = WorkflowCondition(kind: .time, from: "22:00", to: "06:00")
        #expect(WorkflowConditions.holds(night, facts: Self.facts(now: Self.monday.addingTimeInterval(-6 * 3600))))
        #expect(WorkflowConditions.holds(night, facts: Self.facts()) == false)
    }

    @Test func variablesAreEscapedForWhereTheyGo() {
        let values = ["contact.name": "Ana \"the\" Boss", "steps.ask.answer": "4"]
        let body = WorkflowVariables.render(#"{"name": "{{contact.name}}", "rating": {{steps.ask.answer}}, "x": "{{unknown}}"}"#,
                                            values: values, escape: WorkflowVariables.jsonEscaped)
        let parsed = try? JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any]
        #expect(parsed?["name"] as? String == "Ana \"the\" Boss")
        #expect(parsed?["rating"] as? Int == 4)
        #expect(parsed?["x"] as? String == "")
    }

    @Test func templatesAreValidWorkflows() {
        for kind in WorkflowTemplateKind.allCases {
            let options = WorkflowTemplateOptions(userIds: [1, 2], returningUserIds: [3], crmUrl: "https://crm.example.com/{{contact.email}}",
                                                  postUrl: "https://sheet.example.com/csat")
            guard case .success(let definition) = WorkflowTemplates.build(kind, options: options) else {
                Issue.record("\(kind) did not build")
                continue
            }
            #expect(WorkflowValidation.problem(in: definition) == nil)
        }
    }
}
