"""The seed session's own sentences (the Engage unconference output), by the section of the
beyond-hero-stories template they were written in: real content for the tests."""

from __future__ import annotations

SEED_NOTES: dict[str, list[str]] = {
    "define-the-problem": [
        "Need institutional incentives, modelled by leaders, to share failures openly to improve "
        "organisational learning.",
        "Ownership of outcomes (which is then success or fail) can be in conflict with ownership of learning "
        "(I should see what can be done better). I struggled to report/be open about the latter because it "
        "would undermine what my funder wanted for the former.",
        "Mainly positive examples of impact are shared.",
        "We don't talk about failure and learn from it.",
        "We assume that impact is always positive and don't recognise the inevitability of +ve and -ve "
        "intended and unintended outcomes, which look different from different perspectives and can change "
        "over time etc...",
        "Still trying to convince colleagues PPI is a good thing to do, so less motivated/confident sharing "
        "failure in case it puts people off.",
        "Not understanding needs beyond ourselves.",
    ],
    "reverse-the-problem": [
        "We are empowered to talk about failure.",
        "Learning from failure is embedded in the sector.",
        "How to create enabling conditions that create collective accountability for learning?",
    ],
    "how-did-it-feel": [
        "Felt safe, but there are not very many safe spaces to do this.",
        "Nice to not feel like you had to be positive.",
        "A good experience, comfortable in a supportive group.",
        "The ground rules up front set the tone for a safe space.",
        "Embarrassed that I hadn't talked about it much before - revealed a lot, helped to revisit it.",
        "Virtual world can create technological exclusion - missing out on parts of the conversation.",
        "Reminder that it needs to be revisited, not brushed under the carpet.",
    ],
    "how-do-we-want-people-to-feel": [
        "Safe and supported environment to share and have the learning taken further by others.",
        "Allowing something good to come from it.",
        "Not being judged or blamed.",
        "Listened to and a sense of solidarity.",
        "Feel that there is space to debrief.",
        "An open environment without people needing to immediately give advice in response.",
        "'Normal' (awful word I know) - it isn't brave or notable, it's just obvious to do.",
        "A sense of shared responsibility. The failure is everyone's",
        "Frame failure as unintended consequences of our activity. Values are so important in this.",
        "If you're not failing, you're not innovating.",
        "Failure is only really a failure when we don't learn!",
        "Clarity on how success is defined.",
        "Taking account of the power relationship in the sharing - to whom are you disclosing?",
        "We're all accountable for outcomes - not just one group to own success or failure.",
        "Mindset that failure can prevent broader waste of effort or resources.",
        "Important to look at all contributors to failure - hard to establish in orgs and between systems.",
    ],
    "practical-ideas": [
        "Have a 'failure session' at each team meeting",
        "Incentivise people to share failure",
        "Get funders to request a section in reports about what went wrong",
        "Hold meetings, world cafe sessions and other opportunities to talk about failure",
        "Where institutional culture or fear is too rampant, push for a learning framing as a start.",
        "leaders need to set the tone and model good behavior in sharing failures",
        "Reframe failure as learning",
        "Find allies and buddies to create spaces where you can embed this into your work",
        "Create cross-institutional support to be open about failure and learning",
    ],
    "what-next": [
        "We will take this to the engage conference and add to the practical ideas for moving beyond hero stories",
        "At Matter of Focus we are planning on holding more sessions on sharing failure",
    ],
}


def seed_notes(limit: int | None = None) -> list[tuple[str, str]]:
    """(section, text) pairs, sections interleaved so any first N cover several sections."""
    queues = [[(section, text) for text in texts] for section, texts in SEED_NOTES.items()]
    ordered: list[tuple[str, str]] = []
    while any(queues):
        for queue in queues:
            if queue:
                ordered.append(queue.pop(0))
    return ordered[:limit] if limit is not None else ordered
