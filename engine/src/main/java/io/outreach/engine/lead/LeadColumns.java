package io.outreach.engine.lead;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Where the known lead columns sit in an import's header; every other named column is an attribute
 * that is kept with the lead (for message templates such as {@code {{plan}}}).
 *
 * <p>Resolved once per import so that each row is read by index, not by name.
 */
public final class LeadColumns {

  /** The columns the engine understands, in the order the API documents them. */
  public static final List<String> KNOWN =
      List.of(
          "first_name",
          "last_name",
          "phone",
          "email",
          "company",
          "address",
          "city",
          "state",
          "zip",
          "timezone",
          "consent_at",
          "consent_source");

  private final List<String> header;
  private final int firstName;
  private final int lastName;
  private final int phone;
  private final int email;
  private final int company;
  private final int address;
  private final int city;
  private final int state;
  private final int zip;
  private final int timezone;
  private final int consentAt;
  private final int consentSource;
  private final List<String> attributeNames;
  private final int[] attributeIndexes;

  private LeadColumns(List<String> header) {
    this.header = List.copyOf(header);
    this.firstName = header.indexOf("first_name");
    this.lastName = header.indexOf("last_name");
    this.phone = header.indexOf("phone");
    this.email = header.indexOf("email");
    this.company = header.indexOf("company");
    this.address = header.indexOf("address");
    this.city = header.indexOf("city");
    this.state = header.indexOf("state");
    this.zip = header.indexOf("zip");
    this.timezone = header.indexOf("timezone");
    this.consentAt = header.indexOf("consent_at");
    this.consentSource = header.indexOf("consent_source");
    List<String> names = new ArrayList<>();
    List<Integer> indexes = new ArrayList<>();
    for (int i = 0; i < header.size(); i++) {
      String name = header.get(i);
      // An unnamed column cannot be referred to by a template, so there is nothing to keep.
      if (!name.isEmpty() && !KNOWN.contains(name)) {
        names.add(name);
        indexes.add(i);
      }
    }
    this.attributeNames = List.copyOf(names);
    this.attributeIndexes = indexes.stream().mapToInt(Integer::intValue).toArray();
  }

  /**
   * Resolves a header as returned by {@link CsvRecords#header()} (trimmed, lower-cased, unique).
   */
  public static LeadColumns of(List<String> header) {
    return new LeadColumns(header);
  }

  /**
   * Why no lead of this file could ever be accepted, if that is so: without a phone or an email
   * column there is nothing to contact, and rejecting every row one by one helps nobody.
   */
  public Optional<String> headerProblem() {
    if (phone < 0 && email < 0) {
      return Optional.of(
          "the header must have a phone or an email column (found: "
              + CsvRecords.names(header)
              + ")");
    }
    return Optional.empty();
  }

  /** The number of columns, which every row must have. */
  public int size() {
    return header.size();
  }

  public int firstNameIndex() {
    return firstName;
  }

  public int lastNameIndex() {
    return lastName;
  }

  public int phoneIndex() {
    return phone;
  }

  public int emailIndex() {
    return email;
  }

  public int companyIndex() {
    return company;
  }

  public int addressIndex() {
    return address;
  }

  public int cityIndex() {
    return city;
  }

  public int stateIndex() {
    return state;
  }

  public int zipIndex() {
    return zip;
  }

  public int timezoneIndex() {
    return timezone;
  }

  public int consentAtIndex() {
    return consentAt;
  }

  public int consentSourceIndex() {
    return consentSource;
  }

  /** The names of the attribute columns (neither known nor unnamed), in file order. */
  public List<String> attributeNames() {
    return attributeNames;
  }

  /** The column index of the {@code i}-th attribute of {@link #attributeNames()}. */
  int attributeIndex(int i) {
    return attributeIndexes[i];
  }
}
