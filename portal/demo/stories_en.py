"""Alto Fibra's English-speaking customers: twenty tickets from the last month."""

from __future__ import annotations

from portal.demo.story import (
    AGNES,
    ALICE,
    BILLING,
    BOB,
    DIEGO,
    GRETA,
    PRIYA,
    TIER_2,
    TIER_3,
    TOMAS,
    Story,
    change,
    note,
    say,
)

STORIES_EN = (
    # -- new: nobody has looked yet ------------------------------------------------------------------------
    Story(
        "en-keep-landline", "Can I keep my landline number when I switch to Fibra 600?", ALICE, "en", "web",
        "normal", age_days=0.3, tags=("plan-change", "landline"),
        turns=(
            say(ALICE, 0, "Hi, I'm on Fibra 300 with the landline add-on and I'd like to move to Fibra 600. "
                "Will I keep my home phone number (96 312 44 08)? My mother only knows that one by heart.\n\n"
                "Thanks,\nAlice"),
        ),
    ),
    Story(
        "en-double-mobile-m", "Invoice for October shows two Mobile M charges", BOB, "en", "email", "high",
        age_days=0.15, group=BILLING, tags=("invoice", "billing"),
        turns=(
            say(BOB, 0, "Hello,\n\nmy October invoice (FA-2026-10-448812) has two lines 'Mobile M — 15,00 €' "
                "but I only have one mobile line. Please refund the second one.\n\nBob Navarro"),
            say(BOB, 0.6, "Forgot to say: the direct debit already went out, so it has been charged twice."),
        ),
    ),
    Story(
        "en-esim-qr", "eSIM QR code never arrived", GRETA, "en", "web", "normal", age_days=0.8,
        tags=("esim", "mobile"),
        turns=(
            say(GRETA, 0, "I ordered an eSIM for my Mobile L plan three days ago. The order page says 'sent', "
                "but no e-mail with the QR code has arrived, and it isn't in my spam folder either."),
        ),
    ),
    # -- open: being worked on -----------------------------------------------------------------------------
    Story(
        "en-wifi-evenings", "Wi-Fi drops every evening around 9 pm", ALICE, "en", "web", "normal",
        age_days=2.5, tags=("wifi", "router"),
        turns=(
            say(ALICE, 0, "Every evening at about 9 pm all our devices lose the Wi-Fi for a minute or two. "
                "The router is the Alto Home Router AX3000. Cable connections seem fine."),
            say(AGNES, 1.5, "Hello Alice,\n\nthank you for the details. Could you restart the router once "
                "(power button, wait 30 seconds) and tell us if it still happens tonight? If it does, the exact "
                "time helps us find it in the router's log.\n\nAgnes, Alto Fibra support"),
            say(ALICE, 26, "Restarted it yesterday afternoon. It happened again at 21:10, then again at 21:40."),
            note(AGNES, 27, "Router log shows 5 GHz DFS channel switches at 21:09 and 21:41 (radar detected). "
                 "Tier 2, can you exclude the DFS channels on this unit?", group=TIER_2, assignee=DIEGO),
            note(DIEGO, 44, "Pushed a config excluding channels 52-144 via ACS; now on ch 36/80 MHz. "
                 "Leaving it open until she confirms tonight."),
            say(DIEGO, 44.2, "Hi Alice,\n\nthe router was jumping to another 5 GHz channel when it detected "
                "weather radar nearby, which drops everyone for a moment. I've locked it to channels that "
                "don't do this. Could you let us know if tonight is calm?\n\nDiego, Technical support"),
        ),
    ),
    Story(
        "en-capped-100", "Speed capped at 94 Mbps on Fibra 600", BOB, "en", "phone", "high", age_days=1.2,
        tags=("speed", "cabling"),
        turns=(
            say(BOB, 0, "Calling about my Fibra 600 line: speed tests on my desktop, connected by cable, never "
                "go above 94 Mbps. It's been like this since we got the line."),
            note(AGNES, 0.2, "94 Mbps is a 100 Mbit Ethernet link: old cable or PC network card, not the line. "
                 "Asked him to try LAN 1 with the cable from the box."),
            say(AGNES, 0.3, "Thank you for your call, Bob. As we discussed, 94 Mbps is exactly what a 100 Mbit "
                "network link gives, so the limit is most likely the cable. Please try the grey cable that came "
                "with the router, in the port marked LAN 1, and run the test again."),
            say(BOB, 20, "The cable from the box gives 580 Mbps on the desktop! But the laptop on Wi-Fi in the "
                "bedroom is still around 200."),
            note(AGNES, 22, "Cable solved it. 200 Mbps on Wi-Fi through two walls is normal; checking whether "
                 "he can get a mesh point at the promo price before I answer.", priority="normal"),
        ),
    ),
    Story(
        "en-debit-bounced", "Direct debit bounced: will I be charged a fee?", PRIYA, "en", "email", "normal",
        age_days=1.8, group=BILLING, tags=("direct-debit", "billing"),
        turns=(
            say(PRIYA, 0, "Hi,\n\nmy bank returned this month's direct debit because I changed accounts. "
                "I have already updated the IBAN in my account area. Will you add a return fee, and how do I "
                "pay the November invoice now?\n\nPriya"),
            say(AGNES, 3, "Hello Priya,\n\nthe new IBAN is saved and will be used from the next invoice. "
                "For November you can pay by card in your account area under Invoices → Pay now. "
                "I'm checking the return fee with our billing team.\n\nAgnes"),
            say(PRIYA, 10, "Paid by card just now. Thanks! Let me know about the fee."),
            note(AGNES, 11, "Asked finance to waive the 5 € return fee (first time, long-standing customer). "
                 "Waiting for their OK before telling her."),
        ),
    ),
    Story(
        "en-roaming-norway", "Mobile L: no data while roaming in Norway", GRETA, "en", "web", "urgent",
        age_days=0.6, tags=("roaming", "mobile"),
        turns=(
            say(GRETA, 0, "I'm in Bergen for work and my phone shows 4G but nothing loads. Calls work. "
                "Data roaming is switched on. I need it for my boarding pass tomorrow!"),
            say(AGNES, 0.5, "Hello Greta,\n\nsorry about this. Could you switch airplane mode on and off, and "
                "check that the network selected is Telenor or Telia? Please tell us what you see.\n\nAgnes"),
            say(GRETA, 1.5, "Tried both, selected Telenor by hand. Still no data."),
            note(AGNES, 1.8, "Not on the roaming-barred list. Escalating to Tier 2: could be the APN profile.",
                 group=TIER_2, assignee=DIEGO),
            note(DIEGO, 3, "HLR shows location update from Telenor NO fine, but the APN profile lost the "
                 "roaming flag at the plan change on the 3rd. Fixed in provisioning."),
            say(DIEGO, 3.1, "Hi Greta,\n\nwe found a setting on our side that was blocking data abroad since "
                "your plan change and have corrected it. Please restart the phone; data should work within a "
                "few minutes.\n\nDiego, Technical support"),
        ),
    ),
    Story(
        "en-router-reboots-again", "The replacement router also restarts at night", ALICE, "en", "web", "high",
        age_days=3, group=TIER_2, tags=("router", "reboot"), follow_up_of="en-router-reboots",
        turns=(
            say(ALICE, 0, "The new router you sent last month has started restarting at about 3 am too, "
                "just like the old one. The lights all go off and come back."),
            say(DIEGO, 2, "Hello Alice,\n\nsorry it's back. This time I'll look at the router's logs myself "
                "before we replace anything.\n\nDiego"),
            note(DIEGO, 2.2, "Same 03:00 reboot, but no thermal watchdog this time: it's the nightly firmware "
                 "check failing and retrying. Reported to the vendor; meanwhile moving her unit to the 1.4.3 "
                 "beta channel."),
        ),
    ),
    # -- pending: waiting for the customer -----------------------------------------------------------------
    Story(
        "en-moving-house", "Moving house next month: how do I transfer my Fibra 300?", BOB, "en", "web", "low",
        age_days=4, tags=("move", "fibre"),
        turns=(
            say(BOB, 0, "We're moving from Russafa to Benimaclet on the 15th of next month. Can the fibre "
                "move with us, and do I need to bring the router?"),
            say(AGNES, 6, "Hello Bob,\n\nyes, your Fibra 300 can move with you and you keep the router. "
                "Please reply with the full new address and two preferred dates for the installation so we "
                "can check coverage and book the technician.\n\nAgnes", status="pending"),
        ),
    ),
    Story(
        "en-los-red", "Router shows a blinking red LOS light", PRIYA, "en", "phone", "high", age_days=1.1,
        tags=("outage", "fibre", "router"),
        turns=(
            say(PRIYA, 0, "No internet since this morning. The LOS light on the router is blinking red."),
            say(AGNES, 0.1, "Thank you for calling, Priya. A red LOS light means the router receives no light "
                "from the fibre. I've passed this to our network team, who will contact you today."),
            note(AGNES, 0.2, "ONT offline since 07:42, rx power -inf on the OLT. Neighbours on the same "
                 "splitter are up. Escalating.", group=TIER_3, assignee=TOMAS, priority="urgent"),
            note(TOMAS, 2, "Only this ONT is dark, splitter port fine. Most likely the drop cable or the "
                 "connector at the wall socket. Asking for a photo before sending a technician."),
            say(TOMAS, 2.2, "Hello Priya,\n\nthe rest of your street is working, so the problem is probably in "
                "the thin fibre cable between the wall socket and the router. Could you check it isn't bent "
                "sharply or pinched, and send us a photo of both ends?\n\nTomás, Network engineering",
                status="pending"),
        ),
    ),
    Story(
        "en-premium-sms", "Unexpected 12.40 € for premium SMS", GRETA, "en", "email", "normal", age_days=6,
        group=BILLING, tags=("invoice", "premium-sms", "billing"),
        turns=(
            say(GRETA, 0, "My last invoice has 12.40 € of 'premium SMS' that I never sent. What is this?"),
            note(AGNES, 4, "Premium SMS to 25522 on the 12th and 14th: a quiz subscription confirmed from her "
                 "number. Offer to block premium services; refund only if she didn't sign up."),
            say(AGNES, 4.3, "Hello Greta,\n\nthose charges come from a quiz service (short number 25522) that "
                "was subscribed to from your phone on the 12th. Do you recognise it? We can block all premium "
                "services on your line right away; please confirm you'd like that.\n\nAgnes",
                status="pending"),
        ),
    ),
    # -- on hold: waiting for someone else ---------------------------------------------------------------
    Story(
        "en-new-flat-install", "Technician visit to install fibre in my new flat", ALICE, "en", "web", "normal",
        age_days=8, tags=("installation", "fibre"),
        turns=(
            say(ALICE, 0, "I signed up for Fibra 600 at my new flat (Carrer de Sueca 21, 4th floor) but the "
                "booking page says no slots are available. When can someone come?"),
            note(AGNES, 3, "Building isn't in the coverage map yet: needs vertical wiring. Requested a survey "
                 "from the installer partner, order INS-55120."),
            say(AGNES, 3.3, "Hello Alice,\n\nyour building needs a little extra wiring before the installation, "
                "so our installer partner has to visit it first. We've asked for that survey and will get back "
                "to you as soon as they give us a date.\n\nAgnes", status="on_hold"),
            say(ALICE, 100, "Any news about the survey?"),
            note(AGNES, 102, "Partner confirms survey next Tuesday morning; building administrator informed."),
            say(AGNES, 102.2, "Hello Alice,\n\nthe survey is booked for next Tuesday morning. The building "
                "administrator knows, so you don't need to be at home.\n\nAgnes", status="on_hold"),
        ),
    ),
    Story(
        "en-packet-loss", "Intermittent packet loss while gaming in the evening", BOB, "en", "web", "normal",
        age_days=10, tags=("latency", "network"),
        turns=(
            say(BOB, 0, "Between 9 and 11 pm my online games lag badly. A ping test shows 3-5% packet loss. "
                "The rest of the day it's perfect."),
            say(AGNES, 2, "Hello Bob,\n\ncould you run the same test to 8.8.8.8 during the evening with the PC "
                "connected by cable, and send us the result?\n\nAgnes"),
            say(BOB, 28, "Here it is: 500 pings, 4.2% loss, all between 21:05 and 21:50."),
            note(AGNES, 29, "Loss only at peak hours, line levels fine. Looks like capacity, escalating to "
                 "Tier 3.", group=TIER_3, assignee=TOMAS),
            note(TOMAS, 50, "Checked the OLT, line levels fine (-19.8 dBm). Aggregation link VLC-AGG-02 hits "
                 "92% at 21:00. Capacity upgrade already planned for the 28th."),
            say(TOMAS, 51, "Hello Bob,\n\nthe loss comes from a busy link in our network in the evening, not "
                "from your line. It gets a capacity upgrade on the 28th; we'll keep this ticket until then and "
                "check with you afterwards.\n\nTomás, Network engineering", status="on_hold"),
        ),
    ),
    # -- solved: waiting to be confirmed or to close by themselves -----------------------------------------
    Story(
        "en-esim-iphone", "How do I set up my eSIM on an iPhone?", PRIYA, "en", "web", "low", age_days=5,
        tags=("esim", "mobile", "how-to"),
        turns=(
            say(PRIYA, 0, "I got the QR code for my eSIM. What do I do with it on an iPhone 15?"),
            say(AGNES, 1, "Hello Priya,\n\non the iPhone go to Settings → Mobile Service → Add eSIM → Use QR "
                "code, and scan it from another screen or a printout. Keep Wi-Fi on while it installs. Each "
                "code works only once, so don't delete the plan afterwards.\n\nAgnes", status="solved"),
        ),
    ),
    Story(
        "en-invoice-address", "Invoice address is still my old flat", BOB, "en", "email", "normal", age_days=9,
        group=BILLING, tags=("invoice", "billing"),
        turns=(
            say(BOB, 0, "My invoices still show my old address in Russafa. Can you fix that and send me a "
                "corrected October invoice? I need it for my expenses."),
            say(AGNES, 2, "Hello Bob,\n\nthe address is corrected for future invoices. Would you like us to "
                "reissue October with the new address?\n\nAgnes", status="pending"),
            say(BOB, 20, "Yes please, reissue October."),
            note(AGNES, 21, "Reissued as FA-2026-10-448812-R1; original cancelled."),
            say(AGNES, 21.1, "Done: the corrected October invoice is in your account area under Invoices.",
                status="solved"),
        ),
    ),
    Story(
        "en-upgrade-1g", "Upgrade from Fibra 300 to Fibra 1G", ALICE, "en", "web", "normal", age_days=12,
        tags=("plan-change", "fibre"),
        turns=(
            say(ALICE, 0, "I work from home now and would like Fibra 1G. What does it cost, and is there a "
                "new commitment period?"),
            say(AGNES, 2, "Hello Alice,\n\nFibra 1G is 10 € a month more than your current plan, with no new "
                "commitment. Shall we go ahead? The change happens overnight.\n\nAgnes", status="pending"),
            say(ALICE, 5, "Yes, go ahead."),
            note(AGNES, 5.5, "Plan change order created, effective tonight. AX3000 does 1G only on LAN 1."),
            say(AGNES, 5.6, "Done! From tomorrow you'll have Fibra 1G. For full speed by cable, use the port "
                "marked LAN 1 on the router.", status="solved"),
        ),
    ),
    Story(
        "en-voicemail", "Voicemail keeps calling me back", GRETA, "en", "phone", "low", age_days=3,
        tags=("voicemail", "mobile"),
        turns=(
            say(GRETA, 0, "Every missed call turns into a voicemail notification call. I don't want voicemail "
                "at all."),
            say(AGNES, 0.1, "As discussed on the phone: dial ##002# and press call to switch voicemail off. "
                "To turn it back on later, dial **004*123#.", status="solved"),
        ),
    ),
    # -- closed --------------------------------------------------------------------------------------------
    Story(
        "en-router-reboots", "Router reboots by itself every night", ALICE, "en", "web", "normal",
        age_days=24, tags=("router", "reboot", "hardware"),
        turns=(
            say(ALICE, 0, "Our Alto Home Router AX3000 restarts every night around 3 am. We notice because the "
                "smart plugs lose their connection."),
            say(AGNES, 3, "Hello Alice,\n\ncould you tell us whether the router sits in a closed cupboard or "
                "near something warm? And is the fan grille on the back clear?\n\nAgnes"),
            say(ALICE, 20, "It's on an open shelf. It does feel very hot to the touch."),
            note(AGNES, 21, "Log: thermal watchdog at 85 °C every night. Hardware fault, needs an RMA.",
                 group=TIER_2, assignee=DIEGO),
            say(DIEGO, 26, "Hello Alice,\n\nyour router is overheating, which is a fault. We're sending you a "
                "replacement by courier; please send the old one back in the same box.\n\nDiego",
                status="pending"),
            say(ALICE, 70, "The new router arrived and is installed. Thank you!"),
            say(DIEGO, 72, "Glad to hear it. I'll mark this as solved.", status="solved"),
            change(ALICE, 80, status="closed"),
        ),
    ),
    Story(
        "en-roaming-morocco", "Roaming charges from my trip to Morocco", BOB, "en", "email", "high",
        age_days=27, group=BILLING, tags=("roaming", "invoice", "billing"),
        turns=(
            say(BOB, 0, "I was charged 86 € for data in Marrakesh. I thought roaming was included in Mobile M?"),
            note(AGNES, 5, "Morocco is zone 3: not included, and the 50 € cap warning was sent. Team lead "
                 "approved a 50% goodwill credit."),
            say(AGNES, 5.5, "Hello Bob,\n\nroaming in Mobile M covers the EU; Morocco is charged separately, "
                "and we sent a warning text at 50 €. As a gesture of goodwill we've credited half of the "
                "charge, 43 €, on your next invoice.\n\nAgnes", status="solved"),
            say(BOB, 30, "Thank you, much appreciated!", status="closed"),
        ),
    ),
    Story(
        "en-wifi-password", "How do I change the Wi-Fi password?", PRIYA, "en", "web", "low", age_days=18,
        tags=("wifi", "how-to"),
        turns=(
            say(PRIYA, 0, "Our old flatmate still knows the Wi-Fi password. How do I change it?"),
            say(AGNES, 1, "Hello Priya,\n\nopen http://192.168.1.1 from a device at home, log in with the "
                "password on the router's sticker, then go to Wi-Fi → Security. Every device will need the new "
                "password afterwards.\n\nAgnes", status="solved"),
            change(PRIYA, 26, status="closed"),
        ),
    ),
)
