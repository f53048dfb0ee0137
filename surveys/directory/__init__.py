"""The directory: organisations (sponsors, CROs, sites, networks), their people, the
relationships that are rated (`organisations`), what each directory value must be
(`rules`), the organisations CSV import (`organisation_import`), the whole directory
imported from a CTMS or CRM export, previewed then applied (`directory_import`), and the
append-only audit log of what people did (`audit`: an entry names a person, and every
package above writes it).

May import: `surveys.infra`.
"""
