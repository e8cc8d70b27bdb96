"""The seed's own session replayed over real websockets: its notes spread over four breakout rooms and a plenary.

The first seed is the output of a 45-person session; its sentences are the
notes here, each written in one of four rooms, round robin per section.
On top: failure stories in the interview sections (which the template keeps
in their rooms), two notes kept in their room, one public, one withdrawn,
two signed, clusters whose labels differ only in case and spacing, votes in
the rooms and in the plenary, four ideas copied to the plenary (by the server,
as the facilitator asks: ``from_room`` and ``from_note`` set), one moved there (copied,
then deleted in its room), a note that is HTML, and a note written after
the vote closed.
"""

from __future__ import annotations

import asyncio
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from typing import Any

from boards import BoardClient, Event, board_client, call, create_event
from seed_notes import SEED_NOTES as SEED_SENTENCES
from workshop import settle

TITLE = "Beyond Hero Stories: Engage unconference"
SECTIONS_IN_ORDER = [
    ("define-the-problem", "Define the problem"),
    ("reverse-the-problem", "Reverse the problem"),
    ("how-did-it-feel", "How did people feel about the failures they talked about?"),
    ("how-do-we-want-people-to-feel", "How do we want people to feel when sharing examples of failure?"),
    ("practical-ideas", "Practical ideas for moving beyond hero stories"),
]
CLOSING = ("what-next", "What next?")
INTERVIEW = ["what-did-you-do", "who-did-you-aim-to-engage", "what-did-you-learn", "what-will-you-do-differently"]
# The interview's own answers: the most identifying words of the session; they never leave their room.
STORIES = [
    "Our community festival lost its funding halfway through and I told nobody until the report was due.",
    "We invited the patient group too late, after every decision was made, and two members walked out.",
    "I learned that I hid the bad survey results because I feared my manager's reaction.",
    "Next time I would budget for access needs from day one instead of hoping for spare money.",
]
HTML_NOTE = "<img src=x onerror=alert(1)> is how our survey tool showed every answer"
LATE_NOTE = "Written after the vote closed: start a failure reading group"
ROOM_ONLY = {"Not understanding needs beyond ourselves.", "Clarity on how success is defined."}
PUBLIC = {"If you're not failing, you're not innovating."}
WITHDRAWN = "Mainly positive examples of impact are shared."
SIGNED = {"Failure is only really a failure when we don't learn!": "Ada", "Reframe failure as learning": "Ben"}
COPIED = [
    "Have a 'failure session' at each team meeting",
    "Incentivise people to share failure",
    "Get funders to request a section in reports about what went wrong",
    "Reframe failure as learning",
]
MOVED = "Hold meetings, world cafe sessions and other opportunities to talk about failure"
# (section, label, note) in the note's own room: labels that differ only in case and spacing are one cluster.
CLUSTERS = [
    ("practical-ideas", "Culture", "Have a 'failure session' at each team meeting"),
    ("practical-ideas", "  culture ", "leaders need to set the tone and model good behavior in sharing failures"),
    ("practical-ideas", "Funders and incentives", "Incentivise people to share failure"),
    ("define-the-problem", "Incentives", SEED_SENTENCES["define-the-problem"][0]),
    ("define-the-problem", "incentives", SEED_SENTENCES["define-the-problem"][4]),
]
DETAILS = {
    "question": "How can we move beyond hero stories and help understand and learn from failure in public "
    "engagement and research impact work?",
    "date": "2026-11-23",
    "where": "National Coordinating Centre for Public Engagement (NCCPE) Unconference",
    "facilitators": [
        {
            "name": "Sarah Morton",
            "about": "Theme leader. Director and founder of Matter of Focus - I wanted to lead this stream because "
            "I am really concerned that to mature as a sector we need to embed a learning culture that embraces "
            "failure.",
        },
        {"name": "Holly Rogers", "about": "Academy of Medical Sciences"},
        {"name": "Charlotte Coales", "about": "Zoological Society of London"},
        {"name": "Peter Lefort", "about": "University of Exeter"},
    ],
    "participants": 45,
    "participants_about": "public engagement and research impact professionals from the UK, Canada and beyond",
    "next_steps": [
        "We will take this to the engage conference and add to the practical ideas for moving beyond hero stories"
    ],
}


# The seed's sentences as notes; its first "what next" is the organisers' own next step (DETAILS), not a note.
SEED_NOTES = {
    section: [text for text in texts if text not in DETAILS["next_steps"]] for section, texts in SEED_SENTENCES.items()
}


@dataclass(frozen=True)
class Written:
    id: str
    room: str
    section: str
    text: str
    scope: str
    author: str  # pseudonym: never in an export
    signed: str | None


@dataclass
class SeedSession:
    event: Event
    notes: dict[str, Written] = field(default_factory=dict)  # by text
    copies: dict[str, str] = field(default_factory=dict)  # text -> the plenary copy's id
    end_of_vote: str = ""
    votes: dict[str, int] = field(default_factory=dict)  # text -> expected total, voters counted once

    @property
    def shareable(self) -> list[Written]:
        """Every note an event export must show exactly once."""
        hidden = set(ROOM_ONLY) | {WITHDRAWN}
        private = set(INTERVIEW)
        return [n for n in self.notes.values() if n.text not in hidden and n.section not in private]


async def run_seed_session(server: Any) -> SeedSession:
    event = create_event(server, title=TITLE, template="beyond-hero-stories", rooms=4)
    reply = call(server, "PUT", f"/api/events/{event.id}/details", DETAILS, token=event.facilitator)
    assert reply.status == 200, reply
    shop = SeedSession(event)
    rooms = event.breakouts
    writers = [event.join(None) for _ in rooms]
    ada, ben = event.join("Ada"), event.join("Ben")
    async with AsyncExitStack() as stack:

        async def connect(room: str, who: Any, author: str, name: str | None) -> BoardClient:
            return await stack.enter_async_context(board_client(event, room, who, author, name))

        facs = [await connect(room, event.facilitator, "facilitator", None) for room in rooms]
        plenary = await connect(event.plenary, event.facilitator, "facilitator", None)
        people = [await connect(room, w.token, w.subject, None) for room, w in zip(rooms, writers, strict=True)]
        signers = {"Ada": await connect(rooms[0], ada.token, ada.subject, "Ada")}
        signers["Ben"] = await connect(rooms[1], ben.token, ben.subject, "Ben")

        async def write(client: BoardClient, room: int, section: str, text: str) -> None:
            name = SIGNED.get(text)
            scope = "room" if text in ROOM_ONLY else "public" if text in PUBLIC else "event"
            note_id = await client.add_note(text, section=section, author_name=name, scope=scope)
            await settle(client)
            shop.notes[text] = Written(note_id, rooms[room], section, text, scope, client.author, name)

        for section, texts in SEED_NOTES.items():
            for n, text in enumerate(texts):
                room = n % len(rooms)
                writer = SIGNED.get(text)
                client = signers[writer] if writer else people[room]
                if writer:
                    room = 0 if writer == "Ada" else 1
                await write(client, room, section, text)
        for n, (section, text) in enumerate(zip(INTERVIEW, STORIES, strict=True)):
            await write(people[n], n, section, text)
        await write(people[3], 3, "practical-ideas", HTML_NOTE)
        withdrawer = next(c for c in people if c.author == shop.notes[WITHDRAWN].author)
        await withdrawer.set_note(shop.notes[WITHDRAWN].id, withdrawn=True)
        await settle(withdrawer)

        for section, label, text in CLUSTERS:
            fac = facs[rooms.index(shop.notes[text].room)]
            cluster = await fac.add_cluster(section, label, x=0, y=0)
            await settle(fac)
            await fac.set_note(shop.notes[text].id, cluster=cluster)
            await settle(fac)

        # Ideas to the plenary, copied by the server as the facilitator asks; one moved (its source deleted).
        for text in [*COPIED, MOVED]:
            note = shop.notes[text]
            body = {"notes": [{"room": note.room, "note": note.id}], "move": text == MOVED}
            reply = call(server, "POST", f"/api/events/{event.id}/plenary", body, token=event.facilitator)
            assert reply.status == 200, reply
            shop.copies[text] = reply.body["copied"][0]["copy"]
        await plenary.wait_for_confirmed(lambda board: set(shop.copies.values()) <= set(board["notes"]))
        culture = await plenary.add_cluster("practical-ideas", "CULTURE", x=0, y=0)
        await settle(plenary)
        for text in ("Have a 'failure session' at each team meeting", "Reframe failure as learning", MOVED):
            await plenary.set_note(shop.copies[text], cluster=culture)
        await settle(plenary)

        # Votes: in each room, its writer votes; in the plenary, Ada votes on the copies too.
        for fac in [*facs, plenary]:
            await fac.set_meta(phase="vote")
            await settle(fac)
        await asyncio.sleep(0.2)
        plenary_ada = await connect(event.plenary, ada.token, ada.subject, "Ada")
        ballots = [
            (people[0], "Have a 'failure session' at each team meeting", 3),
            (people[1], "Incentivise people to share failure", 2),
            (signers["Ada"], SEED_NOTES["define-the-problem"][0], 1),
            (plenary_ada, "Have a 'failure session' at each team meeting", 2),  # a second voter on the copy
            (plenary_ada, "Reframe failure as learning", 1),
        ]
        for client, text, dots in ballots:
            target = shop.copies[text] if client is plenary_ada else shop.notes[text].id
            await client.wait_for_confirmed(lambda board, t=target: t in board["votes"], within_s=10)
            await client.vote(target, dots)
            await settle(client)
        shop.votes = {
            "Have a 'failure session' at each team meeting": 5,
            "Incentivise people to share failure": 2,
            SEED_NOTES["define-the-problem"][0]: 1,
            "Reframe failure as learning": 1,
        }
        for phase in ("done", "cluster"):  # the vote closes; then one room opens again for a late idea
            for fac in [*facs, plenary]:
                await fac.set_meta(phase=phase)
                await settle(fac)
        await write(people[2], 2, "practical-ideas", LATE_NOTE)
        for fac in [*facs, plenary]:
            await fac.set_meta(phase="done")
            await settle(fac)
    shop.end_of_vote = "end-of-vote"
    return shop
