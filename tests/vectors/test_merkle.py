"""The stream commitment is RFC 6962's Merkle tree hash: checked against the
certificate-transparency reference test vectors (independent of this code)."""

from __future__ import annotations

from teecert.vectors import merkle

# RFC 6962 test inputs and roots as published with certificate-transparency's
# reference implementation (merkle tree test vectors).
CT_LEAVES = [b"", b"\x00", b"\x10", b"\x20\x21", b"\x30\x31", b"\x40\x41\x42\x43", b"\x50\x51\x52\x53\x54\x55\x56\x57",
             b"\x60\x61\x62\x63\x64\x65\x66\x67\x68\x69\x6a\x6b\x6c\x6d\x6e\x6f"]
CT_ROOTS = {
    1: "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    2: "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    3: "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    4: "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    5: "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    6: "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    7: "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    8: "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
}


def test_roots_match_rfc6962_reference_vectors() -> None:
    for n, want in CT_ROOTS.items():
        leaves = [merkle.leaf_hash(x) for x in CT_LEAVES[:n]]
        assert merkle.root(leaves).hex() == want, n


def test_leaf_and_node_are_domain_separated() -> None:
    a, b = merkle.leaf_hash(b"a"), merkle.leaf_hash(b"b")
    # a leaf whose bytes are two hashes is not the node over them
    assert merkle.leaf_hash(a + b) != merkle.node_hash(a, b)
    assert merkle.root([a, b]) != merkle.root([b, a])
