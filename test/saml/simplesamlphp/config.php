<?php

/*
 * SimpleSAMLphp as the IdP of test/saml/simplesamlphp-idp.test.ts, read in place
 * (SIMPLESAMLPHP_CONFIG_DIR points here). Everything that changes per run, or that the IdP
 * writes, lives in the test's temporary folder, named by GATEHOUSE_SSP_DIR: its base URL, its
 * signing key, the SP metadata it trusts, sessions and logs.
 */
$run = getenv('GATEHOUSE_SSP_DIR');
if (!is_string($run) || $run === '') {
    throw new Exception('GATEHOUSE_SSP_DIR is not set');
}

$config = [
    'baseurlpath' => getenv('GATEHOUSE_SSP_BASE_URL'),
    'certdir' => $run . '/',
    'loggingdir' => $run . '/log/',
    'datadir' => $run . '/data/',
    'tempdir' => $run . '/tmp',
    'metadatadir' => __DIR__ . '/metadata/',
    'technicalcontact_name' => 'Gatehouse tests',
    'technicalcontact_email' => 'na@example.org',
    'timezone' => 'UTC',

    'secretsalt' => getenv('GATEHOUSE_SSP_SECRET_SALT'),
    'auth.adminpassword' => getenv('GATEHOUSE_SSP_SECRET_SALT'),
    'admin.protectindexpage' => true,
    'admin.protectmetadata' => false,
    'admin.checkforupdates' => false,

    'enable.saml20-idp' => true,
    'module.enable' => [
        'exampleauth' => true,
        'core' => true,
        'saml' => true,
    ],

    'showerrors' => true,
    'errorreporting' => false,
    'debug' => ['saml' => false, 'backtraces' => true, 'validatexml' => false],
    'logging.level' => SimpleSAML\Logger::DEBUG,
    'logging.handler' => 'file',
    'logging.logfile' => 'simplesamlphp.log',
    'statistics.out' => [],

    'store.type' => 'phpsession',
    'session.phpsession.savepath' => $run . '/sessions',
    'session.phpsession.cookiename' => 'SimpleSAML',
    'session.cookie.name' => 'SimpleSAMLSessionID',
    'session.cookie.path' => '/',
    // Plain HTTP on the loopback: a Secure cookie would never come back.
    'session.cookie.secure' => false,
    'session.cookie.samesite' => null,
    'language.cookie.secure' => false,
    'language.default' => 'en',
    'language.available' => ['en'],

    'theme.use' => 'default',
    'production' => true,
];
