<?php

/*
 * The hosted IdP. Its key pair is the test's to rotate: the files are read again on every
 * request. Which attribute fills the NameID is set per SP (saml20-sp-remote.php).
 */
$metadata['__DYNAMIC:1__'] = [
    'host' => '__DEFAULT__',
    'privatekey' => 'idp.key',
    'certificate' => 'idp.crt',
    'auth' => 'staff',
];
