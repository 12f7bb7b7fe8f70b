#include "feed/test_tls.h"

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <memory>

#include "absl/strings/str_cat.h"
#include "base/files.h"

namespace pgxn::feed {
namespace {

struct PkeyFree {
  void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};
struct X509Free {
  void operator()(X509* cert) const { X509_free(cert); }
};
struct BioFree {
  void operator()(BIO* bio) const { BIO_free(bio); }
};
using Key = std::unique_ptr<EVP_PKEY, PkeyFree>;
using Cert = std::unique_ptr<X509, X509Free>;

absl::Status Failed(const char* what) {
  return absl::InternalError(absl::StrCat("OpenSSL failed to ", what));
}

// Adds the extension NID with `value` (openssl.cnf syntax) to `cert`.
bool AddExtension(X509* cert, X509* issuer, int nid, const char* value) {
  X509V3_CTX context;
  X509V3_set_ctx_nodb(&context);
  X509V3_set_ctx(&context, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* extension = X509V3_EXT_conf_nid(nullptr, &context, nid, value);
  if (extension == nullptr) return false;
  const bool added = X509_add_ext(cert, extension, -1) == 1;
  X509_EXTENSION_free(extension);
  return added;
}

// A new certificate for `key` named `name`, valid from now for a day, not yet
// signed and without extensions.
Cert NewCert(EVP_PKEY* key, const std::string& name, long serial) {
  Cert cert(X509_new());
  if (cert == nullptr) return nullptr;
  X509_set_version(cert.get(), 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), serial);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -60);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), 24 * 3600);
  X509_set_pubkey(cert.get(), key);
  X509_NAME_add_entry_by_txt(X509_get_subject_name(cert.get()), "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(name.c_str()), -1, -1, 0);
  return cert;
}

absl::StatusOr<TestCredentials> ToPem(X509* cert, EVP_PKEY* key) {
  std::unique_ptr<BIO, BioFree> cert_bio(BIO_new(BIO_s_mem()));
  std::unique_ptr<BIO, BioFree> key_bio(BIO_new(BIO_s_mem()));
  if (PEM_write_bio_X509(cert_bio.get(), cert) != 1 ||
      PEM_write_bio_PrivateKey(key_bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr) != 1) {
    return Failed("write PEM");
  }
  auto text = [](BIO* bio) {
    char* data = nullptr;
    const long size = BIO_get_mem_data(bio, &data);
    return std::string(data, static_cast<size_t>(size));
  };
  return TestCredentials{text(cert_bio.get()), text(key_bio.get())};
}

}  // namespace

absl::StatusOr<TestCredentials> MakeTestCa(const std::string& name) {
  Key key(EVP_EC_gen("P-256"));
  if (key == nullptr) return Failed("make a key");
  Cert cert = NewCert(key.get(), name, 1);
  if (cert == nullptr) return Failed("make a certificate");
  X509_set_issuer_name(cert.get(), X509_get_subject_name(cert.get()));
  if (!AddExtension(cert.get(), cert.get(), NID_basic_constraints, "critical,CA:TRUE") ||
      !AddExtension(cert.get(), cert.get(), NID_key_usage, "critical,keyCertSign,cRLSign") ||
      !AddExtension(cert.get(), cert.get(), NID_subject_key_identifier, "hash") ||
      X509_sign(cert.get(), key.get(), EVP_sha256()) <= 0) {
    return Failed("sign a CA certificate");
  }
  return ToPem(cert.get(), key.get());
}

absl::StatusOr<TestCredentials> IssueTestServerCert(const TestCredentials& ca,
                                                    const std::string& name,
                                                    const std::string& alt_names) {
  std::unique_ptr<BIO, BioFree> ca_cert_bio(
      BIO_new_mem_buf(ca.cert_pem.data(), static_cast<int>(ca.cert_pem.size())));
  std::unique_ptr<BIO, BioFree> ca_key_bio(
      BIO_new_mem_buf(ca.key_pem.data(), static_cast<int>(ca.key_pem.size())));
  Cert ca_cert(PEM_read_bio_X509(ca_cert_bio.get(), nullptr, nullptr, nullptr));
  Key ca_key(PEM_read_bio_PrivateKey(ca_key_bio.get(), nullptr, nullptr, nullptr));
  if (ca_cert == nullptr || ca_key == nullptr) return Failed("read the CA");
  Key key(EVP_EC_gen("P-256"));
  if (key == nullptr) return Failed("make a key");
  Cert cert = NewCert(key.get(), name, 2);
  if (cert == nullptr) return Failed("make a certificate");
  X509_set_issuer_name(cert.get(), X509_get_subject_name(ca_cert.get()));
  if (!AddExtension(cert.get(), ca_cert.get(), NID_basic_constraints, "critical,CA:FALSE") ||
      !AddExtension(cert.get(), ca_cert.get(), NID_key_usage,
                    "critical,digitalSignature,keyEncipherment") ||
      !AddExtension(cert.get(), ca_cert.get(), NID_ext_key_usage, "serverAuth") ||
      !AddExtension(cert.get(), ca_cert.get(), NID_subject_alt_name, alt_names.c_str()) ||
      !AddExtension(cert.get(), ca_cert.get(), NID_authority_key_identifier, "keyid") ||
      X509_sign(cert.get(), ca_key.get(), EVP_sha256()) <= 0) {
    return Failed("sign a server certificate");
  }
  return ToPem(cert.get(), key.get());
}

absl::Status WriteTestCredentials(const TestCredentials& credentials, const std::string& cert_path,
                                  const std::string& key_path) {
  if (absl::Status s = base::WriteFileAtomically(cert_path, credentials.cert_pem, 0600); !s.ok()) {
    return s;
  }
  return base::WriteFileAtomically(key_path, credentials.key_pem, 0600);
}

}  // namespace pgxn::feed
