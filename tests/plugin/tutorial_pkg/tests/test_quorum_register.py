import tssbqs_pbt


def test_quorum_register_keeps_its_promises():
    tssbqs_pbt.check("quorum-register")
