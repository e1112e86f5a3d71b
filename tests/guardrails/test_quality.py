"""The quality bar of issue 3: recall per type on generated sentences, false positives on policy pages."""

from collections import Counter

from pii_evaluation import pages, samples

from guardrails import Vault

BAR = {"BSN": 0.98, "IBAN": 0.98, "EMAIL": 0.98, "TELEFOON": 0.98, "POSTCODE": 0.98, "PERSOON": 0.90,
       "ADRES": 0.90}


def recall_per_type(redactor) -> tuple[Counter, Counter]:
    found, total = Counter(), Counter()
    for sample in samples():
        findings = redactor.redact(sample.text, Vault()).findings
        covered = {i for f in findings for i in range(f.start, f.end)}
        for kind, start, end in sample.spans:
            total[kind] += 1
            whole = {i for i in range(start, end) if not sample.text[i].isspace()} <= covered
            typed = any(f.type == kind and f.start < end and f.end > start for f in findings)
            found[kind] += whole and typed
    return found, total


def test_recall_per_type_meets_the_bar(redactor):
    found, total = recall_per_type(redactor)
    print(f"\nrecall on {len(samples())} generated sentences (Faker nl_NL/en_US, seed 2026):")
    for kind in sorted(total):
        print(f"  {kind:<14} {found[kind]:>4}/{total[kind]:<4} {found[kind] / total[kind]:.3f}")
    for kind, bar in BAR.items():
        assert found[kind] / total[kind] >= bar, kind


def test_false_positives_on_policy_pages_stay_under_one_per_page(redactor):
    policy = pages()
    counts = Counter()
    for page in policy:
        for finding in redactor.redact(page, Vault()).findings:
            counts[finding.type] += 1
    per_page = sum(counts.values()) / len(policy)
    print(f"\nfalse positives on {len(policy)} policy pages of 3,000 characters: {per_page:.2f} per page "
          f"({dict(counts)})")
    assert per_page <= 1.0
