"""A person's own data (GDPR articles 15 and 17): everything held on someone, exported;
a person erased (name, e-mail and account gone, submitted answers kept under a
pseudonym so that scores do not change); old comment texts purged.

May import: every domain package below it (`surveys.scorecards` down to `surveys.infra`).
"""
