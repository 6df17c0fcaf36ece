"""What mail servers say, grouped by bounce reason (sisimai's reason vocabulary).

Each reason maps to regular expressions matched against a diagnostic that has been lower-cased
and had its whitespace collapsed. Patterns are phrased loosely (``\\W*``, optional words) so the
same idea matches across servers; a pattern only belongs here if it names the cause, not a vendor.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

__all__ = ["PHRASES", "matches"]

_RAW: dict[str, tuple[str, ...]] = {
    "mailboxfull": (
        r"mail ?box (?:is )?(?:full|over ?quota|exceeds?|size limit exceeded|would exceed)",
        r"(?:over|exceed(?:ed|s)?|beyond) (?:the |his |her |their |its )?"
        r"(?:disk |storage |mailbox )?quota",
        r"quota (?:exceeded|violation|full|limit)",
        r"(?:disk|storage|mailbox|maildir) quota",
        r"full mailbox|mailfolder is full|inbox is full|box full",
        r"not (?:enough|sufficient) (?:disk |storage )?space",
        r"out of (?:storage|disk) space|no space left on device",
        r"exceeded (?:its |the )?storage allocation",
        r"too many messages (?:on the server|in (?:this|the) mailbox)",
        r"user'?s? space has been used up|space (?:is )?used up",
        r"boite du destinataire pleine|postfach (?:ist )?voll|casella (?:di posta )?piena",
    ),
    "mesgtoobig": (
        r"message (?:is )?too (?:big|large)|too large for|mail size (?:is )?too large",
        r"message (?:size )?exceeds (?:the )?(?:fixed )?maximum (?:message )?size",
        r"size (?:of (?:the )?message )?exceeds (?:the )?(?:local )?(?:maximum|limit)",
        r"message length exceeds|exceeds (?:the )?size limit|size limit exceeded",
    ),
    "exceedlimit": (
        r"message (?:size |length )?exceeds? (?:the )?(?:limit|administrative limit)",
        r"exceeds? (?:the )?limit set by recipient",
    ),
    "suspend": (
        r"(?:account|mailbox|user|address|recipient) (?:is |has been )?"
        r"(?:currently |temporarily )?(?:suspended|disabled|deactivated|frozen|inactive|locked)",
        r"(?:disabled|inactive|suspended|archived|deactivated) (?:recipient|account|mailbox|user)",
        r"account that you tried to reach is (?:disabled|inactive)",
        r"account has been (?:disabled|discontinued|suspended|terminated)",
        r"user is terminated|recipient suspend|user suspended",
        r"boite du destinataire archivee",
    ),
    "hasmoved": (
        r"(?:has|have) moved|no longer (?:on|at) (?:this |the )?server",
        r"address (?:has )?changed|no forwarding address|not our user|user not local",
        r"mailbox (?:owner|address) has changed",
    ),
    "norelaying": (
        r"relay(?:ing)? (?:access )?(?:denied|not (?:allowed|permitted|authori[sz]ed))",
        r"(?:not|isn'?t) (?:permitted|allowed|configured) to relay|unable to relay",
        r"we do not relay|no relaying|relay not permitted|not a gateway",
        r"not in my (?:list of )?(?:allowed )?rcpthosts|relaying denied",
        r"email address is not verified",
    ),
    "authfailure": (
        r"\bdmarc\b.{0,60}(?:fail|reject|policy|not pass|verification)",
        r"(?:fail(?:s|ed|ure)?|not pass(?:es)?|did not pass) (?:to pass )?"
        r"(?:the )?(?:spf|dkim|dmarc)",
        r"(?:spf|dkim|dmarc) (?:check )?(?:fail|validation|verification|record)",
        r"unauthenticated (?:e-?mail|message)|does not have authentication information",
        r"sender policy framework|authentication checks? (?:failed|did not pass)",
    ),
    "userunknown": (
        r"(?:user|recipient|mailbox|address|account|addressee|local ?part|person)"
        r"(?: name)? (?:is )?(?:unknown|not found|not exist|does(?:n'?t| not) exist|invalid)",
        r"unknown (?:user|recipient|mailbox|address|account|local ?part|e-?mail address)",
        r"no such (?:user|recipient|mailbox|address|person|account)",
        r"(?:invalid|bad|unknown|non-?existent|nonexisting) (?:final |destination |delivery )*"
        r"(?:user(?:id)?|recipient|mailbox|address|account)",
        r"(?:is not|isn'?t) a (?:valid|known) (?:user|mailbox|recipient|address)",
        r"mailbox (?:is )?unavailable|mailbox not (?:present|available)|no mailbox",
        r"(?:address|user|recipient|account) (?:\S+ )?(?:was |were )?not (?:found|listed|known)",
        r"not listed in (?:the |public )?(?:domino |name & address |address )?(?:directory|book)",
        r"account (?:that you tried to reach )?does not exist|recip ?notfound|recipnotfound",
        r"(?:there is )?no (?:one|account|user|mailbox) (?:by that name|at this address|here)",
        r"not (?:a )?(?:valid|local) (?:recipient|user|address)|recipient not ok",
        r"user (?:\S+ )?doesn'?t have an? \S+ account|vuser|badrcptto|invalid-recipient",
        r"destinataire invalide|utilisateur inconnu|unbekannte[rn]? (?:empf|benutzer)",
        r"no existe|nessun utente|nicht gefunden",
        r"address (?:is )?(?:not present|no longer valid)",
        r"email address (?:does not|doesn'?t) exist",
        r"mailbox (?:\S+ )?does not exist|recipient address rejected: access denied",
    ),
    "hostunknown": (
        r"host (?:or domain name )?(?:unknown|not found)|unknown host|no such domain",
        r"domain (?:\S+ )?(?:does not exist|not found|is not reachable|unknown|must exist)",
        r"unrout(?:e)?able (?:address|domain|mail domain)|name or service not known",
        r"domain name not found|nxdomain|host unreachable|unknown domain",
        r"mail domain mentioned in email address is unknown|the account or domain may not exist",
        r"(?<![@\w.-])[a-z0-9-]{1,63}(?:\.[a-z0-9-]{1,63}){1,8} does not exist",
    ),
    "filtered": (
        r"message filtered|user reject|refuses? to (?:accept|receive)",
        r"recipient preferences|blocked by the recipient|only accepting mail from",
        r"not (?:accepting|accept) any mail|rejected due to user rules",
        r"account is protected|restricted (?:sms )?e-?mail|bounced address",
    ),
    "requireptr": (
        r"\bptr\b|reverse (?:dns|lookup)|rdns|ip name lookup failed",
        r"(?:no|missing|invalid) (?:reverse |ptr )?(?:dns )?(?:ptr )?record",
        r"cannot find your hostname|hostname (?:could not be|is not) (?:resolved|verified)",
        r"client host rejected: cannot find|unverif[iy]able (?:sending )?ip",
    ),
    "notcompliantrfc": (
        r"not (?:rfc ?\d+ )?compliant|rfc ?(?:2822|5322|822|5321) (?:violation|compliant)",
        r"multiple (?:\S+ )?(?:addresses in from|subject|date|from|to|message-id) "
        r"(?:header|fields?)",
        r"duplicate header|headers? (?:are )?not accepted|messages with multiple",
    ),
    "badreputation": (
        r"(?:poor|bad|low) (?:ip |sender |domain )?reputation|reputation (?:is )?too low",
        r"temporarily rate limited due to ip reputation",
    ),
    "contenterror": (
        r"headers? (?:too large|too long|is too long)|header size exceeds",
        r"(?:illegal|invalid) (?:header|attachment|character)|content error|mime error",
        r"message (?:content|header) (?:is )?(?:malformed|invalid)",
    ),
    "rejected": (
        r"sender (?:address |email address |domain )?"
        r"(?:rejected|denied|is (?:blacklisted|invalid))",
        r"(?:domain of )?sender address (?:\S+ )?does not exist|domain of sender",
        r"invalid sender|bad sender|sender verify failed|sender not (?:pre-approved|allowed)",
        r"mail from (?:\S+ )?(?:rejected|refused|not (?:accepted|allowed|owned))",
        r"purported responsible address|unroutable sender|null sender|empty envelope sender",
        r"sender (?:is )?(?:in (?:my|the) )?black ?list|blacklisted sender",
        r"not (?:a )?member|members-only|not allowed to post|you are not a member",
        r"returned mail not accepted|no third-party dsns|batv",
        r"administrative prohibition|delivery not authori[sz]ed",
        r"permission to post|different address or alias|send mail as",
        r"provide a valid from|from:? domain is invalid",
        r"recipient addresses rejected ?: access denied",
    ),
    "spamdetected": (
        r"\bspam\b|unsolicited|bulk (?:e-?)?mail|junk mail",
        r"content (?:filter )?rejected|message content rejected|rejecting (?:banned )?content",
        r"spamassassin|spam ?score|blacklisted url",
    ),
    "speeding": (
        r"(?:too many|exceeded the (?:\S+ )?(?:number|rate) of) (?:recipients|messages|emails) "
        r"(?:this|per|in the last) (?:hour|minute|day)",
        r"sending (?:too fast|rate)|(?<!connection )rate ?limit(?:ed)?|sent to too many recipients",
    ),
    "toomanyconn": (
        r"too many (?:concurrent |simultaneous )?(?:connections|sessions)",
        r"connection (?:rate|frequency) limit(?:ed)?|connection limit",
        r"too many recipients",
    ),
    "blocked_host": (
        r"blocked using|blacklisted|black ?list|blocklist|block list|\brbl\b|\bdnsbl\b",
        r"spamhaus|spamcop|sorbs|barracudacentral|abuseat",
        r"client host (?:\S+ )?(?:rejected|blocked)|(?:ip|host|address) (?:\S+ )?(?:is )?blocked",
        r"(?:your|sending|source|sender) ip (?:address )?(?:\S+ )?(?:is )?"
        r"(?:blocked|rejected|listed|banned|not allowed)",
        r"messages? from \[?\d{1,3}(?:\.\d{1,3}){3}\]? "
        r"(?:weren'?t|were not|was not|is not|are not)",
        r"blocked for (?:spamming|abuse)|invalid ip|\bip\b.{0,30}not (?:allowed|authori[sz]ed)",
        r"dynamic ip|dial-?up|open proxy|helo command rejected|may not be mail exchanger",
        r"my name was rejected|use the smtp server of your isp",
        r"use your isp'?s? (?:smtp|mail) server",
    ),
    "blocked": (
        r"not accepting (?:connections|mail from your ip)|access denied.{0,20}\bip\b",
        r"connection (?:refused|reset|dropped|rejected)|refused to talk|go away",
        r"service (?:not available|refused)|temporarily deferred|bloquee",
    ),
    "policyviolation": (
        r"policy (?:violation|reasons?)|(?:denied|rejected) (?:by|for|due to) (?:local )?polic",
        r"security polic|organi[sz]ation(?:al)? (?:policy|settings)",
        r"protocol violation|header error|content presents a potential",
        r"illegal attachment|not accept(?:ing)? mail with|closed mailing list",
    ),
    "virusdetected": (
        r"\bvirus\b|malware|infected|trojan|\bworm\b|malicious (?:content|attachment|url)",
    ),
    "systemerror": (
        r"system error|internal (?:server |system )?error|server error|configuration error",
        r"local error|temporary local problem|service currently unavailable",
        r"loops back to myself|loop was found in the mail exchanger|would create a mail loop",
        r"timeout waiting|interrupted system call|queue file write error|transaction failed",
        r"misconfigured|duplicated? message-id",
    ),
    "systemfull": (
        r"(?:system|server|disk) (?:is )?full|insufficient system storage|mail system full",
        r"insufficient (?:disk|storage) space",
    ),
    "networkerror": (
        r"no route to host|host is unreachable|network (?:is )?unreachable|name server",
        r"dns (?:error|lookup|failure|records?)|lookup (?:failure|failed)|host name lookup",
        r"(?:mail|routing|forwarding) loop|too many hops|hop count exceeded",
        r"unable to resolve|could not connect and send|network error|not found, try again",
        r"(?:wasn'?t|not|unable to) (?:be )?able to establish an? (?:smtp )?connection",
    ),
    "expired": (
        r"(?:delivery|message|queue|envelope) (?:time )?(?:has )?expired",
        r"expired after|expired in queue",
        r"host (?:is )?not reachable|failed \d+ attempts|after \d+ (?:delivery )?attempts",
        r"connection timed out|timed out|time-?out",
        r"could not be delivered (?:for|within) (?:\S+ )?(?:days|hours)|for the last \d+ seconds",
        r"giving up|gave up|retry time|too long in (?:the )?queue|in the queue too long",
        r"delivery attempts will continue|has been delayed|delayed|did not accept our requests",
        r"(?:server|host) did not respond|unable to deliver (?:message )?after",
    ),
    "notaccept": (
        r"null ?mx|does not accept (?:any )?mail|not accept(?:ing)? (?:any )?mail|no mx record",
        r"mail receiving disabled|doesn'?t receive (?:e-?)?mail",
        r"couldn'?t find (?:a |any )?mail exchanger",
    ),
    "securityerror": (
        r"authentication (?:required|failed|credentials)|smtp authentication|auth(?:entication)?"
        r"required|tls required|encryption required|starttls|certificate",
    ),
    "mailererror": (
        r"x-unix|procmail|command (?:died|failed|output)|mailer (?:error|failed)",
        r"exit (?:code|status)",
        r"pipe to |deliver(?:y)? to (?:a |the )?(?:program|command)",
    ),
    "syntaxerror": (
        r"syntax error|command (?:not|unrecognized)|improper sequence|bad sequence",
        r"command parameter not implemented|unrecognized command",
    ),
    "vacation": (r"out of (?:the )?office|on vacation|away from (?:the|my) office",),
}

_RAW["blocked"] = _RAW["blocked_host"] + _RAW["blocked"]

PHRASES: Mapping[str, tuple[re.Pattern[str], ...]] = {
    reason: tuple(re.compile(p) for p in patterns) for reason, patterns in _RAW.items()
}


def matches(reason: str, text: str) -> bool:
    """True when normalised ``text`` says something that means ``reason``."""
    return any(p.search(text) for p in PHRASES.get(reason, ()))
