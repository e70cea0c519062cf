package io.readside.security;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import java.util.Optional;

import org.junit.jupiter.api.Test;

class IssuerCheckTest {

    @Test
    void aDeploymentWithoutIssuerOrKeyIsNamedForBoth() {
        assertEquals(List.of("mp.jwt.verify.issuer", "mp.jwt.verify.publickey.location"),
                IssuerCheck.missing(Optional.empty(), Optional.of(" "), Optional.empty()));
    }

    @Test
    void anIssuerWithAKeyLocationOrAnInlineKeyIsEnough() {
        assertEquals(List.of(), IssuerCheck.missing(Optional.of("https://login.example.com"),
                Optional.of("https://login.example.com/certs"), Optional.empty()));
        assertEquals(List.of(), IssuerCheck.missing(Optional.of("https://login.example.com"), Optional.empty(),
                Optional.of("MIIBIjANBg")));
        assertEquals(List.of("mp.jwt.verify.issuer"), IssuerCheck.missing(Optional.of(""),
                Optional.of("file:/keys/issuer.pem"), Optional.empty()));
    }
}
