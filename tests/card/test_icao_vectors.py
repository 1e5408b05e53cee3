"""ICAO Doc 9303 Part 11 worked examples (appendices D and G) as test vectors.

A secure-messaging implementation can agree with our own virtual card and
still be wrong; these intermediate values from the standard are what a real
chip expects."""
from __future__ import annotations

from devices.cccd import bac, crypto, lds, pace
from devices.cccd.mrz import bac_key_seed_input, check_digit
from devices.cccd.sm import Apdu, SecureMessaging

H = bytes.fromhex


# --- Appendix D: BAC ---------------------------------------------------------------

def test_bac_key_derivation_appendix_d2():
    assert check_digit("L898902C<") == "3" and check_digit("690806") == "1" and check_digit("940623") == "6"
    assert bac_key_seed_input("L898902C", "690806", "940623") == "L898902C<369080619406236"
    seed = bac.key_seed("L898902C<", "690806", "940623")
    assert seed == H("239AB9CB282DAF66231DC5A4DF6BFBAE")
    k_enc, k_mac = bac.derive_keys(seed)
    assert k_enc == H("AB94FDECF2674FDFB9B391F85D7F76F2")
    assert k_mac == H("7962D9ECE03D1ACD4C76089DCE131543")


def _bac_session() -> tuple[bac.BacTerminal, SecureMessaging]:
    term = bac.BacTerminal.from_mrz("L898902C<", "690806", "940623",
                                    rnd_ifd=H("781723860C06C226"),
                                    k_ifd=H("0B795240CB7049B01C19B33E32804F0B"))
    cmd = term.authenticate_data(H("4608F91988702212"))
    assert cmd == H("72C29C2371CC9BDB65B779B8E8D37B29ECC154AA56A8799FAE2F498F76ED92F25F1448EEA8AD90A7")
    sm = term.finish(H("46B9342A41396CD7386BF5803104D7CEDC122B9132139BAF2EEDC94EE178534F2F2D235D074D7449"))
    return term, sm


def test_bac_mutual_authentication_and_session_keys_appendix_d3():
    _, sm = _bac_session()
    assert sm.ks_enc == H("979EC13B1CBFE9DCD01AB0FED307EAE5")
    assert sm.ks_mac == H("F1CB1F1FB5ADF208806B89DC579DC1F8")
    assert sm.ssc == int("887022120C06C226", 16)


def test_secure_messaging_select_and_read_binary_appendix_d4():
    _, sm = _bac_session()
    select = sm.wrap(Apdu(0x00, 0xA4, 0x02, 0x0C, H("011E")))
    assert select.encode() == H("0CA4020C158709016375432908C044F68E08BF8B92D635FF24F800")
    assert sm.unwrap(H("990290008E08FA855A5D4C50A8ED9000")) == (b"", 0x9000)

    read4 = sm.wrap(Apdu(0x00, 0xB0, 0x00, 0x00, le=4))
    assert read4.encode() == H("0CB000000D9701048E08ED6705417E96BA5500")
    assert sm.unwrap(H("8709019FF0EC34F9922651990290008E08AD55CC17140B2DED9000")) == (H("60145F01"), 0x9000)

    read18 = sm.wrap(Apdu(0x00, 0xB0, 0x00, 0x04, le=0x12))
    assert read18.encode() == H("0CB000040D9701128E082EA28A70F3C7B53500")
    data, sw = sm.unwrap(H("871901FB9235F4E4037F2327DCC8964F1F9B8C30F42C8E2FFF224A990290008E08C8B2787EAEA07D749000"))
    assert (data, sw) == (H("04303130365F36063034303030305C026175"), 0x9000)


def test_secure_messaging_rejects_a_tampered_response():
    import pytest

    from devices.cccd.errors import SecureMessagingError

    _, sm = _bac_session()
    sm.wrap(Apdu(0x00, 0xA4, 0x02, 0x0C, H("011E")))
    with pytest.raises(SecureMessagingError):
        sm.unwrap(H("990290008E08FA855A5D4C50A8EE9000"))


# --- Appendix G.1: PACE ECDH generic mapping, brainpoolP256r1, AES-128 --------------

CARD_ACCESS = H("31143012060A04007F0007020204020202010202010D")


def test_pace_ecdh_gm_appendix_g1():
    info = lds.parse_card_access(CARD_ACCESS).best_pace()
    assert info.protocol == "0.4.0.127.0.7.2.2.4.2.2" and info.version == 2 and info.parameter_id == 13

    password = pace.mrz_password("T22000129", "640812", "101031")
    assert password == H("7E2D2A41C74EA0B38CD36F863939BFA8E9032AAD")
    term = pace.PaceTerminal(info.protocol, info.parameter_id, password,
                             sk_map=int("7F4EF07B9EA82FD78AD689B38D0BC78CF21F249D953BC46F4C6E19259C010F99", 16),
                             sk_dh=int("A73FB703AC1436A18E0CFA5ABB3F7BEC7A070E7A6788486BEE230C4A22762595", 16))
    assert term.k_pi == H("89DED1B26624EC1E634C1989302849DD")
    assert Apdu(0x00, 0x22, 0xC1, 0xA4, term.mse_set_at_data(pace.PASSWORD_MRZ)).encode() == \
        H("0022C1A40F800A04007F00070202040202830101")

    step1 = Apdu(0x10, 0x86, 0, 0, pace.dynamic_data(0, b""), le=256).encode()
    assert step1 == H("10860000027C0000")
    nonce = pace.parse_dynamic(H("7C12801095A3A016522EE98D01E76CB6B98B42C3"), 0x80)
    assert term.decrypt_nonce(nonce) == H("3F00C4D39D153F2B2A214A078D899B22")

    step2 = Apdu(0x10, 0x86, 0, 0, pace.dynamic_data(0x81, term.mapping_public()), le=256).encode()
    assert step2 == H("10860000457C438141047ACF3EFC982EC45565A4B155129EFBC74650DCBFA6362D896FC70262E0C2CC5E"
                      "544552DCB6725218799115B55C9BAA6D9F6BC3A9618E70C25AF71777A9C4922D00")
    chip_map = pace.parse_dynamic(H("7C43824104824FBA91C9CBE26BEF53A0EBE7342A3BF178CEA9F45DE0B70AA601651FBA3F57"
                                    "30D8C879AAA9C9F73991E61B58F4D52EB87A0A0C709A49DC63719363CCD13C54"), 0x82)
    g = term.map_generator(chip_map)
    assert term.shared_h.x() == int("60332EF2450B5D247EF6D3868397D398852ED6E8CAF6FFEEF6BF85CA57057FD5", 16)
    assert g.x() == int("8CED63C91426D4F0EB1435E7CB1D74A46723A0AF21C89634F65A9AE87A9265E2", 16)
    assert g.y() == int("8C879506743F8611AC33645C5B985C80B5F09A0B83407C1B6A4D857AE76FE522", 16)

    step3 = Apdu(0x10, 0x86, 0, 0, pace.dynamic_data(0x83, term.ephemeral_public()), le=256).encode()
    assert step3 == H("10860000457C438341042DB7A64C0355044EC9DF190514C625CBA2CEA48754887122F3A5EF0D5EDD301C"
                      "3556F3B3B186DF10B857B58F6A7EB80F20BA5DC7BE1D43D9BF850149FBB3646200")
    chip_dh = pace.parse_dynamic(H("7C438441049E880F842905B8B3181F7AF7CAA9F0EFB743847F44A306D2D28C1D9EC65DF6DB"
                                   "7764B22277A2EDDC3C265A9F018F9CB852E111B768B326904B59A0193776F094"), 0x84)
    ks_enc, ks_mac = term.agree(chip_dh)
    assert term.shared_k == H("28768D20701247DAE81804C9E780EDE582A9996DB4A315020B2733197DB84925")
    assert ks_enc == H("F5F0E35C0D7161EE6724EE513A0D9A7F")
    assert ks_mac == H("FE251C7858B356B24514B3BD5F4297D1")

    t_ifd = term.terminal_token()
    assert t_ifd == H("C2B0BD78D94BA866")
    assert Apdu(0x00, 0x86, 0, 0, pace.dynamic_data(0x85, t_ifd), le=256).encode() == \
        H("008600000C7C0A8508C2B0BD78D94BA86600")
    sm = term.check_chip_token(pace.parse_dynamic(H("7C0A86083ABB9674BCE93C08"), 0x86))
    assert sm.cipher == "AES" and sm.ssc == 0


def test_pace_can_password_key():
    # CAN passwords are the digits as ISO 8859-1 bytes, KDF counter 3
    assert pace.password_key(pace.can_password("123456"), "AES", 16) == \
        crypto.kdf(b"123456", crypto.KDF_PACE, "AES", 16)
    assert len(pace.password_key(b"123456", "AES", 32)) == 32
